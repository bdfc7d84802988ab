namespace EchoKit.Server;

/// <summary>
/// The metrics contract of <see cref="EchoServer"/>: the <see cref="System.Diagnostics.Metrics.Meter"/> name, every
/// instrument name and every tag, so exporters, dashboards and tests key on constants rather than strings.
/// </summary>
/// <remarks>
/// <para>
/// Each server creates its own meter named <see cref="MeterName"/> (disposed with the server), so any
/// <see cref="System.Diagnostics.Metrics.MeterListener"/> or exporter that listens to that name sees every server in
/// the process. Every instrument carries the tag <see cref="ListenerTag"/> whose value is the listener's URI
/// (<c>tcp://127.0.0.1:7000</c>, <c>udp://[::]:7</c>...), so one process with many listeners reports each apart.
/// </para>
/// <para>
/// Hot-path cost: bytes and datagram totals are plain <see cref="Interlocked"/> sums per listener, read by observable
/// instruments only when an exporter collects; nothing is recorded per message through the metrics API, so a server
/// with no listener attached, or a busy one being scraped, pays a few nanoseconds per read batch.
/// Per-connection events (accept, reject, close) go through ordinary counters and a histogram.
/// </para>
/// <para>
/// Prometheus names: an exporter that prefixes the meter name (prometheus-net's MeterAdapter) turns
/// <see cref="ConnectionsAccepted"/> into <c>echokit_server_connections_accepted</c>; see docs/operations.md.
/// </para>
/// </remarks>
public static class EchoServerMetrics
{
    /// <summary>The meter every server's instruments belong to: <c>EchoKit.Server</c>.</summary>
    public const string MeterName = "EchoKit.Server";

    /// <summary>Tag on every instrument: the listener's URI as printed in its <c>listening</c> line.</summary>
    public const string ListenerTag = "listener";

    /// <summary>Tag on rejections, drops, handshake failures and durations: why it happened (values below).</summary>
    public const string ReasonTag = "reason";

    /// <summary>Observable up-down counter: connections open right now. Tags: listener.</summary>
    public const string ConnectionsActive = "connections.active";

    /// <summary>Counter: connections taken on for echo. Tags: listener.</summary>
    public const string ConnectionsAccepted = "connections.accepted";

    /// <summary>
    /// Counter: connections closed by policy without (or before) any echo. Tags: listener, reason
    /// (<see cref="RejectMaxConnections"/>, <see cref="RejectDenied"/>, <see cref="RejectProxyHeader"/>,
    /// <see cref="RejectTlsHandshake"/>). A connection refused after it was accepted (a bad PROXY header, a failed
    /// TLS handshake) counts in both <see cref="ConnectionsAccepted"/> and here.
    /// </summary>
    public const string ConnectionsRejected = "connections.rejected";

    /// <summary>Observable counter: bytes read from clients (streams and datagrams). Tags: listener.</summary>
    public const string BytesReceived = "received.bytes";

    /// <summary>Observable counter: bytes echoed back to clients (streams and datagrams). Tags: listener.</summary>
    public const string BytesSent = "sent.bytes";

    /// <summary>Observable counter: datagrams echoed back (UDP listeners). Tags: listener.</summary>
    public const string DatagramsAnswered = "datagrams.answered";

    /// <summary>
    /// Observable counter: datagrams received and not answered. Tags: listener, reason (<see cref="DropDenied"/>:
    /// a denied source port or address; <see cref="DropRateLimited"/>: over the per-source rate;
    /// <see cref="DropTooLarge"/>; <see cref="DropSendFailed"/>).
    /// </summary>
    public const string DatagramsDropped = "datagrams.dropped";

    /// <summary>Counter: TLS handshakes that failed or timed out. Tags: listener, reason (e.g. <c>timeout</c>, <c>protocol</c>).</summary>
    public const string TlsHandshakeFailures = "tls.handshake.failures";

    /// <summary>
    /// Histogram, seconds: how long connections lived, recorded when they close. Tags: listener, reason (how it
    /// ended: <c>closed_by_peer</c>, <c>reset</c>, <c>shutdown</c>, <c>error</c>, <c>protocol_error</c>, ... one per
    /// <see cref="ConnectionCloseReason"/> value in snake case).
    /// </summary>
    public const string ConnectionDuration = "connection.duration.seconds";

    /// <summary>
    /// Counter: requests to a reflect listener (docs/reflect.md), by how each was answered. Tags: listener (a
    /// <c>reflect+tcp://</c> or <c>reflect+udp://</c> URI), result (<see cref="ReflectAnswered"/>,
    /// <see cref="ReflectRefused"/>, <see cref="ReflectUnanswered"/>). Reflect listeners also count what the other
    /// instruments measure under their own listener tag: TCP connections accepted, rejected, active and their
    /// duration, bytes both ways, and (UDP) datagrams answered and dropped by rule or rate.
    /// </summary>
    public const string ReflectRequests = "reflect.requests";

    /// <summary>Tag on <see cref="ReflectRequests"/>: how the request was answered.</summary>
    public const string ResultTag = "result";

    /// <summary>Reflect result: the request got its report.</summary>
    public const string ReflectAnswered = "answered";

    /// <summary>
    /// Reflect result: the request got an error answer (malformed, a hold longer than the limit, too many pending
    /// holds, too many requests on one connection, an invalid PROXY header).
    /// </summary>
    public const string ReflectRefused = "refused";

    /// <summary>
    /// Reflect result: no answer at all: a UDP request too small to carry even an error (answers are never larger
    /// than requests), or a held answer dropped because the server stopped.
    /// </summary>
    public const string ReflectUnanswered = "unanswered";

    /// <summary>Rejection reason: the listener was at its connection limit.</summary>
    public const string RejectMaxConnections = "max_connections";

    /// <summary>Rejection or drop reason: the client's address is denied by the access rules.</summary>
    public const string RejectDenied = "denied";

    /// <summary>Rejection reason: the PROXY protocol header was missing, malformed, oversized or late.</summary>
    public const string RejectProxyHeader = "proxy_header";

    /// <summary>Rejection reason: the TLS handshake failed (also counted in <see cref="TlsHandshakeFailures"/>).</summary>
    public const string RejectTlsHandshake = "tls_handshake";

    /// <summary>Drop reason: the datagram's source is denied by the access rules.</summary>
    public const string DropDenied = "denied";

    /// <summary>Drop reason: the datagram's source went over its per-source rate limit.</summary>
    public const string DropRateLimited = "rate_limited";

    /// <summary>Drop reason: the datagram did not fit the receive buffer and was truncated.</summary>
    public const string DropTooLarge = "too_large";

    /// <summary>Drop reason: the answer could not be sent.</summary>
    public const string DropSendFailed = "send_failed";

    /// <summary>Bucket bounds of <see cref="ConnectionDuration"/>, in seconds: from a millisecond to an hour.</summary>
    public static IReadOnlyList<double> DurationBuckets { get; } =
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600];
}
