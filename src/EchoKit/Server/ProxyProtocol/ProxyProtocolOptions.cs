namespace EchoKit.Server.ProxyProtocol;

/// <summary>
/// How listeners with <see cref="ListenEndpoint.UseProxyProtocol"/> read the PROXY header (HAProxy's PROXY
/// protocol, v1 or v2) that a load balancer sends before the client's bytes. Both bounds protect the server from a
/// peer that never finishes a header.
/// </summary>
public sealed class ProxyProtocolOptions
{
    /// <summary>
    /// How long a new connection may take to send its whole header before it is closed. Default 3 s;
    /// 10 ms to 5 minutes. Proxies send the header at once, so anything slow is a client speaking directly.
    /// </summary>
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The longest v2 header accepted, its 16 fixed bytes included; a longer one closes the connection (v1 headers
    /// are bounded at 107 bytes by the spec). Default 536 (addresses plus a few hundred bytes of TLVs such as
    /// AWS or Azure ids); 232 (room for UNIX addresses) to 65551 (the format's own limit).
    /// </summary>
    public int MaxHeaderLength { get; set; } = ProxyHeaderParser.DefaultMaxV2Length;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (HeaderTimeout < TimeSpan.FromMilliseconds(10) || HeaderTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"PROXY header timeout must be from 10ms to 5m, not {HeaderTimeout}", nameof(HeaderTimeout));
        }
        if (MaxHeaderLength is < ProxyHeaderParser.V2FixedLength + 216 or > ProxyHeaderParser.V2FixedLength + ushort.MaxValue)
        {
            throw new ArgumentException($"PROXY header length bound must be from 232 to 65551 bytes, not {MaxHeaderLength}", nameof(MaxHeaderLength));
        }
    }
}
