namespace EchoKit.Server;

/// <summary>
/// Connections refused, by reason: monotonic counts that any thread may read at any time (e.g. a metrics exporter's
/// observable counters). <see cref="EchoServer.Rejections"/> holds the whole server's;
/// <see cref="EchoServer.ListenerRejections"/> one per listener.
/// </summary>
public sealed class RejectionCounters
{
    private static readonly ConnectionRejectReason[] Reasons = Enum.GetValues<ConnectionRejectReason>();
    private readonly long[] _counts = new long[Reasons.Length];

    /// <summary>Every reason, for exporters that label a counter per reason.</summary>
    public static IReadOnlyList<ConnectionRejectReason> AllReasons => Reasons;

    /// <summary>Connections refused for <paramref name="reason"/> so far.</summary>
    public long this[ConnectionRejectReason reason] => Volatile.Read(ref _counts[(int)reason]);

    /// <summary>Refused because the connection limit was reached.</summary>
    public long MaxConnections => this[ConnectionRejectReason.MaxConnections];

    /// <summary>Refused by the access list.</summary>
    public long Denied => this[ConnectionRejectReason.Denied];

    /// <summary>Closed for a bad, missing or slow PROXY header.</summary>
    public long ProxyHeader => this[ConnectionRejectReason.ProxyHeader];

    /// <summary>Closed for a failed or timed-out TLS handshake.</summary>
    public long TlsHandshake => this[ConnectionRejectReason.TlsHandshake];

    /// <summary>All refusals together.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                total += Volatile.Read(ref _counts[i]);
            }
            return total;
        }
    }

    internal void Increment(ConnectionRejectReason reason) => Interlocked.Increment(ref _counts[(int)reason]);

    /// <inheritdoc />
    public override string ToString() =>
        $"max_connections={MaxConnections} denied={Denied} proxy_header={ProxyHeader} tls_handshake={TlsHandshake}";
}
