using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>What every listener and connection of one server shares.</summary>
internal sealed class ServerContext(EchoServerOptions options, ILogger logger, TimeProvider time, ConnectionTracker tracker, ServerInstruments instruments)
{
    /// <summary>The server's metric instruments; each listener takes its own <see cref="ListenerMetrics"/> from it.</summary>
    public ServerInstruments Instruments { get; } = instruments;

    public EchoServerOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    public TimeProvider Time { get; } = time;

    public ConnectionTracker Tracker { get; } = tracker;

    /// <summary>Null when connections are unlimited.</summary>
    public ConnectionLimiter? Limiter { get; } = options.MaxConnections is { } max ? new ConnectionLimiter(max) : null;

    public RejectionCounters Rejections { get; } = new();
}
