using EchoKit.Ping;

namespace EchoKit.Tests.Ping;

/// <summary>Keeps every event of a ping session and lets a test await one (with a timeout) instead of sleeping.</summary>
internal sealed class RecordingPingObserver : IPingObserver
{
    private readonly Lock _gate = new();
    private readonly List<object> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<object> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToArray();
            }
        }
    }

    public IReadOnlyList<PingReply> Replies => Events.OfType<PingReply>().ToArray();

    public IReadOnlyList<PingTransition> Transitions => Events.OfType<PingTransition>().ToArray();

    public IReadOnlyList<PingStray> Strays => Events.OfType<PingStray>().ToArray();

    public void OnResolved(PingResolved resolved) => Add(resolved);

    public void OnConnected(PingConnected connected) => Add(connected);

    public void OnDisconnected(string reason) => Add(reason);

    public void OnReply(PingReply reply) => Add(reply);

    public void OnTransition(PingTransition transition) => Add(transition);

    public void OnStray(PingStray stray) => Add(stray);

    public Task<PingReply> WaitForReplyAsync(long sequence) => WaitForAsync<PingReply>(r => r.Sequence == sequence, $"the reply to seq={sequence}");

    public async Task<T> WaitForAsync<T>(Func<T, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Support.TestTimeouts.Default;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
                foreach (var e in _events)
                {
                    if (e is T found && match(found))
                    {
                        return found;
                    }
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"timed out waiting for {what}; events: {string.Join("; ", Events)}");
            }
            try
            {
                await changed.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                // The deadline check above reports it with the events seen.
            }
        }
    }

    private void Add(object e)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _events.Add(e);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}
