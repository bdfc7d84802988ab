using Microsoft.Extensions.Logging;

namespace EchoKit.Internal;

/// <summary>
/// Every log event EchoKit's library writes, with stable event ids (dashboards and tests may key on them).
/// Every connection event carries the listener and the client address.
/// </summary>
internal static partial class EchoKitLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Debug, Message = "listening {Listener}")]
    public static partial void Listening(ILogger logger, string listener);

    [LoggerMessage(EventId = 2, EventName = "ShutdownStarted", Level = LogLevel.Information,
        Message = "shutting down: listeners closed, waiting up to {TimeoutSeconds}s for {Connections} open connection(s)")]
    public static partial void ShutdownStarted(ILogger logger, double timeoutSeconds, int connections);

    [LoggerMessage(EventId = 3, EventName = "ShutdownAborting", Level = LogLevel.Warning,
        Message = "shutdown: closing {Connections} connection(s) still open")]
    public static partial void ShutdownAborting(ILogger logger, int connections);

    [LoggerMessage(EventId = 4, EventName = "Stopped", Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 10, EventName = "ConnectionOpened", Level = LogLevel.Information,
        Message = "#{ConnectionId} online {Remote} -> {Listener}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string remote, string listener);

    [LoggerMessage(EventId = 11, EventName = "ConnectionClosed", Level = LogLevel.Information,
        Message = "#{ConnectionId} closed {Remote} ({Reason}) in {BytesIn} B, out {BytesOut} B, {DurationMs} ms, on {Listener}")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string remote, string reason, long bytesIn, long bytesOut, long durationMs, string listener);

    [LoggerMessage(EventId = 12, EventName = "ConnectionReset", Level = LogLevel.Debug,
        Message = "#{ConnectionId} {Remote} on {Listener}: {SocketError}")]
    public static partial void ConnectionReset(ILogger logger, long connectionId, string remote, string listener, string socketError);

    [LoggerMessage(EventId = 13, EventName = "ConnectionFault", Level = LogLevel.Error,
        Message = "#{ConnectionId} {Remote} on {Listener}: unexpected error")]
    public static partial void ConnectionFault(ILogger logger, long connectionId, string remote, string listener, Exception exception);

    [LoggerMessage(EventId = 14, EventName = "Data", Level = LogLevel.Information,
        Message = "#{ConnectionId} {Remote} sent {Count} B:\n{Data}")]
    public static partial void Data(ILogger logger, long connectionId, string remote, int count, string data);

    [LoggerMessage(EventId = 20, EventName = "AcceptError", Level = LogLevel.Error,
        Message = "accept failed on {Listener}: {SocketError}; retrying in {DelayMs} ms")]
    public static partial void AcceptError(ILogger logger, string listener, string socketError, int delayMs);

    [LoggerMessage(EventId = 21, EventName = "AcceptFault", Level = LogLevel.Error,
        Message = "accept loop on {Listener} failed")]
    public static partial void AcceptFault(ILogger logger, string listener, Exception exception);

    [LoggerMessage(EventId = 500, EventName = "BenchStarted", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Connections} connection(s), {Pipeline} in flight, {Size} B")]
    public static partial void BenchStarted(ILogger logger, string mode, string target, int connections, int pipeline, int size);

    [LoggerMessage(EventId = 501, EventName = "BenchFinished", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Messages} messages in {Seconds:0.###} s, {Errors} error(s), {Mismatches} mismatched byte(s)")]
    public static partial void BenchFinished(ILogger logger, string mode, string target, long messages, double seconds, long errors, long mismatches);
}
