using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that says when the server started a timer of a given length, so a test advances
/// the clock only once the deadline it wants to cross exists (advancing earlier would just move the deadline).
/// </summary>
internal sealed class TimerSignalingTimeProvider(TimeSpan watched) : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _started;

    public FakeTimeProvider Fake { get; } = new();

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = Fake.CreateTimer(callback, state, dueTime, period);
        if (dueTime == watched)
        {
            lock (_lock)
            {
                _started++;
                foreach (var waiter in _waiters.Where(w => w.Count <= _started))
                {
                    waiter.Reached.TrySetResult();
                }
            }
        }
        return timer;
    }

    /// <summary>Completes once <paramref name="count"/> timers of the watched length have been started.</summary>
    public Task WhenStartedAsync(int count)
    {
        lock (_lock)
        {
            if (_started >= count)
            {
                return Task.CompletedTask;
            }
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(Support.TestTimeouts.Default);
        }
    }
}
