using Microsoft.Extensions.Logging;

namespace EchoKit.Testing;

/// <summary>
/// A logger factory that keeps every event logged through it, at every level, and lets a test await the event it
/// expects instead of sleeping. Pass it wherever EchoKit takes an <see cref="ILoggerFactory"/>.
/// </summary>
/// <example>
/// <code>
/// var log = new LogCapture();
/// await using var server = new EchoServer(options, log);
/// ...
/// var closed = await log.WaitForAsync("ConnectionClosed");
/// Assert.Equal("5", closed.Field("BytesIn"));
/// </code>
/// </example>
public sealed class LogCapture : ILoggerFactory
{
    /// <summary>How long <see cref="WaitForAsync"/> waits when no timeout is given: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="WaitForAsync"/> waits when the call gives no timeout; <see cref="DefaultTimeout"/> unless set.
    /// A test suite sets its own policy once here (e.g. longer on a loaded CI machine) instead of at every wait.
    /// </summary>
    public TimeSpan WaitTimeout { get; init; } = DefaultTimeout;

    /// <summary>
    /// The clock the timeouts of <see cref="WaitForAsync"/> run on: the system clock unless set, a fake one to prove a
    /// timeout without waiting it out.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    private readonly Lock _lock = new();
    private readonly List<CapturedLogEvent> _events = [];
    private readonly List<(Func<CapturedLogEvent, bool> Match, TaskCompletionSource<CapturedLogEvent> Done)> _waiters = [];

    /// <summary>Every event so far, in the order logged (a copy: safe to enumerate while more arrive).</summary>
    public IReadOnlyList<CapturedLogEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return _events.ToArray();
            }
        }
    }

    /// <summary>The events so far with this name (e.g. <c>ConnectionOpened</c>).</summary>
    /// <param name="name">The event name.</param>
    public IReadOnlyList<CapturedLogEvent> Named(string name) => Events.Where(e => e.Name == name).ToArray();

    /// <summary>
    /// The first event named <paramref name="name"/> that matches, whether already logged or still to come.
    /// </summary>
    /// <param name="name">The event name.</param>
    /// <param name="match">An extra condition on the event; any event of that name when omitted.</param>
    /// <param name="timeout">How long to wait; <see cref="WaitTimeout"/> when omitted.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <exception cref="TimeoutException">No such event in time; the message lists the events that were seen.</exception>
    public async Task<CapturedLogEvent> WaitForAsync(
        string name,
        Func<CapturedLogEvent, bool>? match = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool Matches(CapturedLogEvent e) => e.Name == name && (match is null || match(e));
        var done = new TaskCompletionSource<CapturedLogEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = ((Func<CapturedLogEvent, bool>)Matches, done);
        lock (_lock)
        {
            var found = _events.FirstOrDefault(Matches);
            if (found is not null)
            {
                return found;
            }
            _waiters.Add(waiter);
        }
        try
        {
            return await done.Task.WaitAsync(timeout ?? WaitTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"no '{name}' event within {(timeout ?? WaitTimeout).TotalSeconds:0.###} s; saw: {string.Join(" | ", Events.Select(e => $"{e.Name}: {e.Message}"))}");
        }
        finally
        {
            lock (_lock)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    /// <summary>Not supported: a capture writes nowhere else.</summary>
    /// <param name="provider">Ignored.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("LogCapture keeps events in memory and forwards them to no provider");

    /// <summary>Nothing to release: the events live as long as the capture.</summary>
    public void Dispose()
    {
        // Nothing to release: the events are plain objects, kept for the test to read after the server stops.
    }

    private void Add(CapturedLogEvent captured)
    {
        List<TaskCompletionSource<CapturedLogEvent>> ready = [];
        lock (_lock)
        {
            _events.Add(captured);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(captured))
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }
        foreach (var done in ready)
        {
            done.TrySetResult(captured);
        }
    }

    private sealed class CapturingLogger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    fields[key] = value;
                }
            }
            owner.Add(new CapturedLogEvent(category, eventId, logLevel, formatter(state, exception), fields, exception));
        }
    }
}
