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

    [LoggerMessage(EventId = 5, EventName = "ListenerEngine", Level = LogLevel.Debug,
        Message = "{Listener} served by the {Engine} engine ({Loops} event loops)")]
    public static partial void ListenerEngine(ILogger logger, string listener, string engine, int loops);

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
    private static partial void DataCore(ILogger logger, long connectionId, string remote, int count, string data, string listener);

    /// <summary>Dumped data: <paramref name="data"/> is the decoded text or a hex dump; either way it is escaped here (<see cref="PeerText.Dump(string)"/>).</summary>
    public static void Data(ILogger logger, long connectionId, string remote, int count, string data, string listener)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            DataCore(logger, connectionId, remote, count, PeerText.Dump(data), listener);
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

    // Metrics and configuration: 300-399.

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

    // echokit connect (400-499): the client's events carry our address (Local) and the server's (Remote).

    [LoggerMessage(EventId = 400, EventName = "ConnectAttemptFailed", Level = LogLevel.Debug,
        Message = "connect to {Remote} failed: {SocketError}")]
    public static partial void ConnectAttemptFailed(ILogger logger, string remote, string socketError);

    [LoggerMessage(EventId = 401, EventName = "ClientConnected", Level = LogLevel.Information,
        Message = "connected {Local} -> {Remote} ({Transport}) in {ConnectMs} ms")]
    public static partial void ClientConnected(ILogger logger, string local, string remote, string transport, double connectMs);

    [LoggerMessage(EventId = 402, EventName = "TlsEstablished", Level = LogLevel.Information,
        Message = "{Local} -> {Remote}: {TlsProtocol}, cipher {CipherSuite}, handshake {HandshakeMs} ms; server certificate {Subject}, issuer {Issuer}, valid until {NotAfter}")]
    private static partial void TlsEstablishedCore(ILogger logger, string local, string remote, string tlsProtocol, string cipherSuite, double handshakeMs, string subject, string issuer, string notAfter);

    /// <summary>The client's TLS session; the certificate's names are the server's to choose, so they are escaped here.</summary>
    public static void TlsEstablished(ILogger logger, string local, string remote, string tlsProtocol, string cipherSuite, double handshakeMs, string subject, string issuer, string notAfter)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            TlsEstablishedCore(logger, local, remote, tlsProtocol, cipherSuite, handshakeMs, PeerText.Field(subject), PeerText.Field(issuer), notAfter);
        }
    }

    [LoggerMessage(EventId = 403, EventName = "TlsValidationSkipped", Level = LogLevel.Warning,
        Message = "{Local} -> {Remote}: server certificate NOT verified (ignored: {Errors}); the connection is encrypted but anyone on the path could be the server")]
    public static partial void TlsValidationSkipped(ILogger logger, string local, string remote, string errors);

    [LoggerMessage(EventId = 404, EventName = "InputEnded", Level = LogLevel.Debug,
        Message = "{Local} -> {Remote}: input ended after {BytesSent} B; {Action}")]
    public static partial void InputEnded(ILogger logger, string local, string remote, long bytesSent, string action);

    [LoggerMessage(EventId = 405, EventName = "ClientClosed", Level = LogLevel.Information,
        Message = "closed {Local} -> {Remote} ({Reason}): sent {BytesSent} B, received {BytesReceived} B, in {DurationMs} ms")]
    public static partial void ClientClosed(ILogger logger, string local, string remote, string reason, long bytesSent, long bytesReceived, long durationMs);

    [LoggerMessage(EventId = 406, EventName = "DatagramsEnded", Level = LogLevel.Information,
        Message = "closed {Local} -> {Remote} ({Reason}): sent {DatagramsSent} datagram(s), {BytesSent} B; received {DatagramsReceived} datagram(s), {BytesReceived} B, in {DurationMs} ms")]
    public static partial void DatagramsEnded(ILogger logger, string local, string remote, string reason, long datagramsSent, long bytesSent, long datagramsReceived, long bytesReceived, long durationMs);

    [LoggerMessage(EventId = 407, EventName = "ClientReset", Level = LogLevel.Debug,
        Message = "{Local} -> {Remote}: {SocketError}")]
    public static partial void ClientReset(ILogger logger, string local, string remote, string socketError);

    [LoggerMessage(EventId = 408, EventName = "ClientFault", Level = LogLevel.Error,
        Message = "{Local} -> {Remote}: unexpected error")]
    public static partial void ClientFault(ILogger logger, string local, string remote, Exception exception);

    // UDP: event ids 100-199. Per-datagram events exist only for --dump; per-source events are rationed per
    // stats interval (UdpOptions.MaxSourceEventsPerInterval), so a flood cannot flood the log.

    [LoggerMessage(EventId = 100, EventName = "UdpSocketReady", Level = LogLevel.Debug,
        Message = "udp {Listener}: {Loops} receive loop(s), socket buffers {ReceiveBuffer} B in, {SendBuffer} B out (asked {Asked} B)")]
    public static partial void UdpSocketReady(ILogger logger, string listener, int loops, int receiveBuffer, int sendBuffer, int asked);

    [LoggerMessage(EventId = 101, EventName = "UdpFirstDatagram", Level = LogLevel.Information,
        Message = "udp {Remote} first datagram ({Count} B) -> {Listener}")]
    public static partial void UdpFirstDatagram(ILogger logger, string remote, int count, string listener);

    [LoggerMessage(EventId = 102, EventName = "UdpRateLimited", Level = LogLevel.Warning,
        Message = "udp {Remote} over {Rate} datagrams/s on {Listener}: dropping its datagrams until it slows down")]
    public static partial void UdpRateLimited(ILogger logger, string remote, int rate, string listener);

    [LoggerMessage(EventId = 103, EventName = "UdpDeniedSource", Level = LogLevel.Information,
        Message = "udp {Remote} on {Listener}: dropped, {Reason}")]
    public static partial void UdpDeniedSource(ILogger logger, string remote, string listener, string reason);

    [LoggerMessage(EventId = 104, EventName = "UdpStats", Level = LogLevel.Information,
        Message = "udp {Listener}: {Received} datagram(s) in, {Answered} answered, {DroppedByRule} dropped by rule, {DroppedByRate} dropped by rate, {SendErrors} send error(s), {BytesReceived} B in, {BytesSent} B out, {NewSources} new source(s) in {Seconds}s")]
    public static partial void UdpStats(ILogger logger, string listener, long received, long answered, long droppedByRule, long droppedByRate, long sendErrors, long bytesReceived, long bytesSent, long newSources, long seconds);

    [LoggerMessage(EventId = 105, EventName = "UdpData", Level = LogLevel.Information,
        Message = "udp {Remote} sent {Count} B on {Listener}:\n{Data}")]
    // data is escaped by the caller already: PeerText.Dump of the datagram, or a hex dump.
    public static partial void UdpData(ILogger logger, string remote, int count, string listener, string data);

    [LoggerMessage(EventId = 106, EventName = "UdpSendError", Level = LogLevel.Debug,
        Message = "udp {Remote} on {Listener}: echo not sent: {SocketError}")]
    public static partial void UdpSendError(ILogger logger, string remote, string listener, string socketError);

    [LoggerMessage(EventId = 107, EventName = "UdpReceiveError", Level = LogLevel.Debug,
        Message = "udp receive on {Listener}: {SocketError}")]
    public static partial void UdpReceiveError(ILogger logger, string listener, string socketError);

    [LoggerMessage(EventId = 108, EventName = "UdpReceiveFault", Level = LogLevel.Error,
        Message = "udp receive on {Listener} failed: {SocketError}; retrying in {DelayMs} ms")]
    public static partial void UdpReceiveFault(ILogger logger, string listener, string socketError, int delayMs);

    [LoggerMessage(EventId = 109, EventName = "UdpLoopFault", Level = LogLevel.Error,
        Message = "udp receive loop on {Listener} failed")]
    public static partial void UdpLoopFault(ILogger logger, string listener, Exception exception);

    [LoggerMessage(EventId = 500, EventName = "BenchStarted", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Connections} connection(s), {Pipeline} in flight, {Size} B")]
    public static partial void BenchStarted(ILogger logger, string mode, string target, int connections, int pipeline, int size);

    [LoggerMessage(EventId = 501, EventName = "BenchFinished", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Messages} messages in {Seconds:0.###} s, {Errors} error(s), {Mismatches} mismatched byte(s)")]
    public static partial void BenchFinished(ILogger logger, string mode, string target, long messages, double seconds, long errors, long mismatches);
}
