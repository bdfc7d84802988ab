namespace EchoKit.Tests.Support;

/// <summary>
/// The one timeout policy of the tests: every wait for an event is bounded by one of these, generous so that a loaded
/// machine does not fail a test, yet finite so that a hang is reported rather than waited on. A wait is never how a
/// test lets time pass: timeouts of the code under test run on a fake clock, or the test awaits the event itself.
/// </summary>
internal static class TestTimeouts
{
    /// <summary>Any awaited event: a connection, an echo, a log event, a line from a process, its exit (30 s).</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>A process that moves data through the namespace lab's injected faults (loss, a rate limit, a cut): 2 min.</summary>
    public static readonly TimeSpan Lab = TimeSpan.FromMinutes(2);

    /// <summary>Packing the packages and building a consumer from them, restore included: 20 min.</summary>
    public static readonly TimeSpan Build = TimeSpan.FromMinutes(20);

    /// <summary>A token that cancels after <see cref="Default"/> (or <paramref name="timeout"/>).</summary>
    public static CancellationToken Token(TimeSpan? timeout = null) => new CancellationTokenSource(timeout ?? Default).Token;

    /// <summary>Awaits <paramref name="condition"/> becoming true, checking each time the loop yields; fails after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            // Polls a state the server exposes no event for; the interval only bounds CPU use, not correctness.
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Moves the fake clock by <paramref name="step"/> at a time until <paramref name="condition"/> holds: for code that
    /// arms its timer (or stamps its last activity) just after the event the test awaited, so one advance may come too
    /// early. Fails after <see cref="Default"/> of real time.
    /// </summary>
    public static Task AdvanceUntilAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, TimeSpan step, Func<bool> condition, string what) =>
        WaitUntilAsync(() =>
        {
            time.Advance(step);
            return condition();
        }, what);
}
