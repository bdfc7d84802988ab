using Microsoft.Extensions.Logging;

namespace EchoKit.Client.Internal;

/// <summary>
/// Log events of the echo clients (<c>echokit connect</c>, <c>send</c>): ids 400-499, stable. They carry our
/// address (Local) and the server's (Remote).
/// </summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 400, EventName = "ConnectAttemptFailed", Level = LogLevel.Debug,
        Message = "tried {Remote}: {Reason}")]
    public static partial void ConnectAttemptFailed(ILogger logger, string remote, string reason);

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
        Message = "{Local} -> {Remote}: {Reason}")]
    public static partial void ClientReset(ILogger logger, string local, string remote, string reason);

    [LoggerMessage(EventId = 408, EventName = "ClientFault", Level = LogLevel.Error,
        Message = "{Local} -> {Remote}: unexpected error")]
    public static partial void ClientFault(ILogger logger, string local, string remote, Exception exception);

    [LoggerMessage(EventId = 409, EventName = "TlsHandshakeFailed", Level = LogLevel.Debug,
        Message = "{Local} -> {Remote}: TLS handshake failed: {Detail}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string local, string remote, string detail);
}
