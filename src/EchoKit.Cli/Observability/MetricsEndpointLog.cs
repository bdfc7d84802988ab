using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Observability;

/// <summary>
/// Log events of the metrics endpoint (<c>serve --metrics</c>): ids 300-399, stable (dashboards and tests key on them).
/// </summary>
internal static partial class MetricsEndpointLog
{
    [LoggerMessage(EventId = 300, EventName = "MetricsRequestFailed", Level = LogLevel.Debug,
        Message = "metrics request from {Remote} on {Listener} failed: {Reason}")]
    private static partial void MetricsRequestFailedCore(ILogger logger, string remote, string listener, string reason);

    /// <summary>A failed metrics request; the reason may quote the request, so it is escaped here.</summary>
    public static void MetricsRequestFailed(ILogger logger, string remote, string listener, string reason)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            MetricsRequestFailedCore(logger, remote, listener, PeerText.Field(reason));
        }
    }

    [LoggerMessage(EventId = 301, EventName = "MetricsRequestFault", Level = LogLevel.Error,
        Message = "metrics request from {Remote} on {Listener}: unexpected error")]
    public static partial void MetricsRequestFault(ILogger logger, string remote, string listener, Exception exception);

    [LoggerMessage(EventId = 302, EventName = "MetricsBusy", Level = LogLevel.Warning,
        Message = "metrics connection from {Remote} on {Listener} closed: {Limit} connections open (the oldest unfinished request gives way)")]
    public static partial void MetricsBusy(ILogger logger, string remote, string listener, int limit);

    [LoggerMessage(EventId = 303, EventName = "MetricsAcceptError", Level = LogLevel.Error,
        Message = "accept failed on {Listener}: {SocketError}; retrying in {DelayMs} ms")]
    public static partial void MetricsAcceptError(ILogger logger, string listener, string socketError, int delayMs);
}
