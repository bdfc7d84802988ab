using EchoKit.Server.ProxyProtocol;

namespace EchoKit.Probe;

/// <summary>What <see cref="NatProbe"/> found by comparing this end's view with the server's.</summary>
/// <param name="Local">This client's address:port on the TCP connection.</param>
/// <param name="Seen">The same connection's client address:port as the server saw it.</param>
/// <param name="Nat">Whether the address or port was rewritten on the way.</param>
/// <param name="PortPreserved">Whether the source port arrived unchanged.</param>
/// <param name="Dialed">The server address dialed.</param>
/// <param name="ServerLocal">The address the server says the connection arrived on (differs from <paramref name="Dialed"/> behind a DNAT or load balancer).</param>
/// <param name="Instance">The server's instance id.</param>
/// <param name="ClientMss">TCP_MAXSEG at this end.</param>
/// <param name="ServerMss">TCP_MAXSEG at the server.</param>
/// <param name="MssClampedTo">The MSS a middlebox clamped the handshake to, or null when nothing was clamped (or unknown).</param>
/// <param name="UdpSeen">The UDP socket's address:port as the server saw it, or null without a UDP reflect service.</param>
/// <param name="UdpLocal">The UDP socket's own address:port.</param>
/// <param name="DscpSent">DSCP this end set on its UDP datagram.</param>
/// <param name="DscpSeen">DSCP the datagram arrived with, or null when unknown.</param>
/// <param name="Ecn">ECN bits the datagram arrived with.</param>
/// <param name="Ttl">TTL the datagram arrived with.</param>
/// <param name="Hops">Routers on the way (TTL sent minus TTL seen), or null when unknown.</param>
/// <param name="Proxy">The PROXY header the server received, if any.</param>
/// <param name="ProxyProblems">PROXY protocol mistakes spotted, one line each.</param>
public sealed record NatProbeResult(string Local, string Seen, bool Nat, bool PortPreserved, string Dialed, string? ServerLocal, string? Instance,
    int? ClientMss, int? ServerMss, int? MssClampedTo, string? UdpSeen, string? UdpLocal, int DscpSent, int? DscpSeen, int? Ecn, int? Ttl, int? Hops,
    ProxyHeader? Proxy, IReadOnlyList<string> ProxyProblems)
{
    /// <summary>Whether the DSCP was changed on the way.</summary>
    public bool? DscpRewritten => DscpSeen is { } seen ? seen != DscpSent : null;
}
