using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// Log events of the echo server's stream listeners and lifecycle (category <c>EchoKit.Server</c>): ids 1-99 for
/// listening, connections and shutdown, 200-299 for the production features (limits, PROXY, TLS, Unix sockets, idle
/// sweep). Ids and messages are stable: dashboards and tests key on them. Every connection event carries the
/// listener and the client address. UDP has <see cref="UdpLog"/>, the reflect service ReflectLog.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Debug, Message = "listening {Listener}")]
    public static partial void Listening(ILogger logger, string listener);

    [LoggerMessage(EventId = 5, EventName = "ListenerEngine", Level = LogLevel.Debug,
        Message = "{Listener} served by the epoll engine ({Loops} event loop(s))")]
    public static partial void ListenerOnEpoll(ILogger logger, string listener, int loops);

    [LoggerMessage(EventId = 6, EventName = "ListenerEngineSockets", Level = LogLevel.Debug,
        Message = "{Listener} served by the sockets engine (System.Net.Sockets)")]
    public static partial void ListenerOnSockets(ILogger logger, string listener);

    [LoggerMessage(EventId = 2, EventName = "ShutdownStarted", Level = LogLevel.Information,
        Message = "shutting down: listeners closed, waiting up to {TimeoutSeconds}s for {Connections} open connection(s)")]
    public static partial void ShutdownStarted(ILogger logger, double timeoutSeconds, int connections);

    [LoggerMessage(EventId = 3, EventName = "ShutdownAborting", Level = LogLevel.Warning,
        Message = "shutdown: closing {Connections} connection(s) still open")]
    public static partial void ShutdownAborting(ILogger logger, int connections);

    [LoggerMessage(EventId = 4, EventName = "Stopped", Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 10, EventName = "ConnectionOpened", Level = LogLevel.Information,
        Message = "#{ConnectionId} online {Remote} -> {Local} on {Listener}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string remote, string local, string listener);

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
        Message = "#{ConnectionId} {Remote} on {Listener} sent {Count} B:\n{Data}")]
    // data is escaped by the caller already: PeerText.Dump of the bytes (never of decoded text), or a hex dump (HexDump: printable ASCII).
    public static partial void Data(ILogger logger, long connectionId, string remote, int count, string data, string listener);

    [LoggerMessage(EventId = 208, EventName = "TlsProtocolError", Level = LogLevel.Information,
        Message = "#{ConnectionId} {Remote} on {Listener}: TLS protocol error from the client: {Error}")]
    private static partial void TlsProtocolErrorCore(ILogger logger, long connectionId, string remote, string listener, string error);

    /// <summary>The client broke TLS after the handshake (a bad record, a renegotiation request): its fault, logged as handshake failures are.</summary>
    public static void TlsProtocolError(ILogger logger, long connectionId, string remote, string listener, string error)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            TlsProtocolErrorCore(logger, connectionId, remote, listener, PeerText.Field(error));
        }
    }

    [LoggerMessage(EventId = 20, EventName = "AcceptError", Level = LogLevel.Error,
        Message = "accept failed on {Listener}: {SocketError}; retrying in {DelayMs} ms")]
    public static partial void AcceptError(ILogger logger, string listener, string socketError, int delayMs);

    [LoggerMessage(EventId = 21, EventName = "AcceptFault", Level = LogLevel.Error,
        Message = "accept loop on {Listener} failed")]
    public static partial void AcceptFault(ILogger logger, string listener, Exception exception);

    // Production server: 200-299.

    [LoggerMessage(EventId = 200, EventName = "ConnectionRejected", Level = LogLevel.Information,
        Message = "rejected {Remote} on {Listener}: {Reason}")]
    public static partial void ConnectionRejected(ILogger logger, string remote, string listener, string reason);

    [LoggerMessage(EventId = 201, EventName = "ProxyHeaderRejected", Level = LogLevel.Information,
        Message = "#{ConnectionId} {Remote} on {Listener}: PROXY header rejected: {Error}")]
    private static partial void ProxyHeaderRejectedCore(ILogger logger, long connectionId, string remote, string listener, string error);

    public static void ProxyHeaderRejected(ILogger logger, long connectionId, string remote, string listener, string error)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            ProxyHeaderRejectedCore(logger, connectionId, remote, listener, PeerText.Field(error));
        }
    }

    [LoggerMessage(EventId = 202, EventName = "ProxyHeaderAccepted", Level = LogLevel.Debug,
        Message = "#{ConnectionId} {Proxy} on {Listener}: PROXY v{Version} {Command}, client {Remote}")]
    public static partial void ProxyHeaderAccepted(ILogger logger, long connectionId, string proxy, string listener, int version, string command, string remote);

    [LoggerMessage(EventId = 203, EventName = "TlsHandshakeFailed", Level = LogLevel.Information,
        Message = "#{ConnectionId} {Remote} on {Listener}: TLS handshake failed: {Error}")]
    private static partial void TlsHandshakeFailedCore(ILogger logger, long connectionId, string remote, string listener, string error);

    public static void TlsHandshakeFailed(ILogger logger, long connectionId, string remote, string listener, string error)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            TlsHandshakeFailedCore(logger, connectionId, remote, listener, PeerText.Field(error));
        }
    }

    [LoggerMessage(EventId = 204, EventName = "TlsHandshakeCompleted", Level = LogLevel.Debug,
        Message = "#{ConnectionId} {Remote} on {Listener}: {TlsProtocol} {CipherSuite}")]
    public static partial void TlsHandshakeCompleted(ILogger logger, long connectionId, string remote, string listener, string tlsProtocol, string cipherSuite);

    [LoggerMessage(EventId = 205, EventName = "UnixSocketReplaced", Level = LogLevel.Information,
        Message = "removed stale socket file {Path} (nothing listened on it) for {Listener}")]
    public static partial void UnixSocketReplaced(ILogger logger, string path, string listener);

    [LoggerMessage(EventId = 206, EventName = "UnixSocketRemoveFailed", Level = LogLevel.Warning,
        Message = "could not remove socket file {Path} of {Listener}: {Error}")]
    public static partial void UnixSocketRemoveFailed(ILogger logger, string path, string listener, string error);

    [LoggerMessage(EventId = 207, EventName = "IdleSweepFault", Level = LogLevel.Error,
        Message = "idle connection sweep failed")]
    public static partial void IdleSweepFault(ILogger logger, Exception exception);
}
