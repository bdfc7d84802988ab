namespace EchoKit.Tests.Support;

/// <summary>Bounds for awaiting events in tests: generous, so a loaded machine does not fail them, yet finite.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>The tighter bound (20 s) the connect, metrics/config and UDP process tests were written against.</summary>
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(20);

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
}
