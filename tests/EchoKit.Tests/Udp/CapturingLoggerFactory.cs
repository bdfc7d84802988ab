using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Udp;

/// <summary>Records every log event so tests can count them and await a given one.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly Channel<CapturedEvent> _events = Channel.CreateUnbounded<CapturedEvent>();

    public ConcurrentQueue<CapturedEvent> All { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
        // Nothing held.
    }

    /// <summary>Waits for the next event named <paramref name="name"/> (earlier events of other names are skipped).</summary>
    public async Task<CapturedEvent> WaitForAsync(string name, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        try
        {
            while (true)
            {
                var next = await _events.Reader.ReadAsync(cts.Token);
                if (next.Name == name)
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {name} event logged in time; saw: {string.Join(", ", All.Select(e => e.Name))}");
        }
    }

    public int Count(string name) => All.Count(e => e.Name == name);

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = (state as IEnumerable<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value);
            var captured = new CapturedEvent(eventId.Name ?? eventId.Id.ToString(), logLevel, formatter(state, exception), fields);
            owner.All.Enqueue(captured);
            owner._events.Writer.TryWrite(captured);
        }
    }
}
