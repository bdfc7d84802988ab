using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>What every listener and connection of one server shares.</summary>
internal sealed class ServerContext(EchoServerOptions options, ILogger logger, TimeProvider time, ConnectionTracker tracker)
{
    public EchoServerOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    public TimeProvider Time { get; } = time;

    public ConnectionTracker Tracker { get; } = tracker;

    /// <summary>Null when connections are unlimited.</summary>
    public ConnectionLimiter? Limiter { get; } = options.MaxConnections is { } max ? new ConnectionLimiter(max) : null;

    public RejectionCounters Rejections { get; } = new();
}
