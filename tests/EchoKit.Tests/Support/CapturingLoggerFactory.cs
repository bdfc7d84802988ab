using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Production;

/// <summary>
/// The one log capture of the tests: keeps every event the server logs, and lets a test await the one it expects
/// (bounded by <see cref="Support.TestTimeouts.Default"/>).
/// </summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly object _lock = new();
    private readonly List<CapturedEvent> _events = [];
    private readonly List<(Func<CapturedEvent, bool> Match, TaskCompletionSource<CapturedEvent> Done)> _waiters = [];

    public IReadOnlyList<CapturedEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return _events.ToArray();
            }
        }
    }

    public IEnumerable<CapturedEvent> Named(string name) => Events.Where(e => e.Name == name);

    /// <summary>How many events named <paramref name="name"/> were logged so far.</summary>
    public int Count(string name) => Named(name).Count();

    /// <summary>The first event (already logged or still to come) named <paramref name="name"/> that matches.</summary>
    public async Task<CapturedEvent> WaitForAsync(string name, Func<CapturedEvent, bool>? match = null, TimeSpan? timeout = null)
    {
        bool Matches(CapturedEvent e) => e.Name == name && (match is null || match(e));
        var done = new TaskCompletionSource<CapturedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var found = _events.FirstOrDefault(Matches);
            if (found is not null)
            {
                return found;
            }
            _waiters.Add((Matches, done));
        }
        try
        {
            return await done.Task.WaitAsync(timeout ?? Support.TestTimeouts.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no '{name}' event; saw: {string.Join(" | ", Events.Select(e => $"{e.Name}: {e.Message}"))}");
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
        // Nothing to release: events live as long as the test.
    }

    private void Add(CapturedEvent e)
    {
        List<TaskCompletionSource<CapturedEvent>> ready = [];
        lock (_lock)
        {
            _events.Add(e);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(e))
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }
        foreach (var done in ready)
        {
            done.TrySetResult(e);
        }
    }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = (state as IEnumerable<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value);
            owner.Add(new CapturedEvent(eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), logLevel, formatter(state, exception), fields));
        }
    }
}
