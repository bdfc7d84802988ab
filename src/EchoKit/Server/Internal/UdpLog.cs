using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// Log events of the UDP echo listeners: ids 100-199, stable. Per-datagram events exist only for <c>--dump</c>;
/// per-source events are rationed per stats interval, so a flood cannot flood the log.
/// </summary>
internal static partial class UdpLog
{
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
}
