namespace EchoKit.Probe;

/// <summary>What <see cref="MtuProbe"/> found.</summary>
/// <param name="MaxUdpPayload">The largest UDP payload that made the round trip with DF set.</param>
/// <param name="RouteMtu">
/// The MTU of this end's route to the server: the route's own MTU, or else the outgoing device's (Linux: read through
/// rtnetlink). Where that cannot be read, the kernel's path MTU before probing, which may already be a learned one.
/// </param>
/// <param name="PathMtu">The kernel's path MTU (IP_MTU) after probing: lower than <paramref name="RouteMtu"/> once an ICMP "fragmentation needed" arrived.</param>
/// <param name="StartPathMtu">
/// The kernel's path MTU before the first datagram: lower than <paramref name="RouteMtu"/> when an ICMP of an earlier
/// run (or any earlier traffic) taught it, which the kernel keeps about 10 minutes.
/// </param>
/// <param name="HeaderBytes">IP and UDP header bytes per datagram (28 IPv4, 48 IPv6).</param>
/// <param name="BlackHole">True when larger datagrams vanished and no ICMP lowered the kernel's path MTU.</param>
/// <param name="IcmpSeen">True when the kernel learned a smaller path MTU (ICMP "fragmentation needed" / "packet too big"), in this run or before it (<see cref="IcmpCached"/>).</param>
/// <param name="ClientMss">TCP MSS at this end, or null without a TCP reflect service.</param>
/// <param name="ServerMss">TCP MSS at the server.</param>
/// <param name="Probes">Datagrams sent while bisecting (bursts of 12 per try).</param>
public sealed record MtuProbeResult(int MaxUdpPayload, int? RouteMtu, int? PathMtu, int? StartPathMtu, int HeaderBytes, bool BlackHole, bool IcmpSeen, int? ClientMss, int? ServerMss, int Probes)
{
    /// <summary>
    /// True when datagrams larger than <see cref="MaxUdpPayload"/> vanished but loss on the path may explain it (a size
    /// that fits needed a second burst, or a lost size answered when tried again): no <see cref="BlackHole"/> is claimed,
    /// and the largest payload may be larger than found.
    /// </summary>
    public bool Uncertain { get; init; }

    /// <summary>The path MTU the probe measured: the largest payload plus headers.</summary>
    public int MeasuredMtu => MaxUdpPayload + HeaderBytes;

    /// <summary>True when the kernel already knew a path MTU below the route's when the probe began (an earlier ICMP).</summary>
    public bool IcmpCached => BelowRoute(StartPathMtu, RouteMtu);

    /// <summary>
    /// Whether the kernel's path MTU is below the route's, i.e. lowered by ICMP. IP_MTU reports at most 65535 (the
    /// largest IP packet) while a route may say more (loopback: 65536), so the route's MTU is capped there first.
    /// </summary>
    internal static bool BelowRoute(int? kernel, int? route) => kernel is { } k && route is { } r && k < Math.Min(r, 65_535);
}
