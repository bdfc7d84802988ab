using System.Globalization;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Probe;

namespace EchoKit.Cli.Output;

/// <summary>The text reports of <c>echokit probe</c>. Everything the server sent is shown through <see cref="Safe"/>.</summary>
internal static class ProbeText
{
    public static string Nat(NatProbeResult r)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"server {Safe(r.Instance)} at {r.Dialed} (it sees itself as {Safe(r.ServerLocal)})");
        text.AppendLine(CultureInfo.InvariantCulture, $"tcp: this end {r.Local}, server sees {Safe(r.Seen)}: {(r.Nat ? "NAT (rewritten)" : "no NAT")}, port {(r.PortPreserved ? "preserved" : "changed")}");
        if (r.ClientMss is not null || r.ServerMss is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"tcp: MSS here {Num(r.ClientMss)}, at the server {Num(r.ServerMss)}: {(r.MssClampedTo is { } c ? $"clamped to {c} on the way" : "not clamped")}");
        }
        if (r.UdpSeen is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"udp: this end {r.UdpLocal}, server sees {Safe(r.UdpSeen)}");
            text.AppendLine(CultureInfo.InvariantCulture, $"udp: DSCP sent {r.DscpSent}, received {Num(r.DscpSeen)}{(r.DscpRewritten == true ? " (rewritten)" : "")}; ECN {Num(r.Ecn)}; TTL received {Num(r.Ttl)}, {Num(r.Hops)} hop(s)");
        }
        else
        {
            text.AppendLine("udp: no UDP reflect answer on that port (DSCP, TTL and hops unknown)");
        }
        if (r.Proxy is { } proxy)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"proxy: v{proxy.Version} {proxy.Command.ToString().ToLowerInvariant()} from {Addr(proxy.Source)} to {Addr(proxy.Destination)}");
        }
        foreach (var problem in r.ProxyProblems)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"proxy: {Safe(problem)}");
        }
        return text.ToString();
    }

    public static string Idle(IdleProbeResult r)
    {
        var text = new StringBuilder();
        foreach (var f in r.Findings)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{f.Check}: {Finding(f, r.MaxSeconds)}");
        }
        if (r.Tcp is { } tcp)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"idle TCP connections {Finding(tcp, r.MaxSeconds)}");
        }
        if (r.Udp is { } udp)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"idle UDP mappings {Finding(udp, r.MaxSeconds)}");
        }
        if (r.SuggestedKeepaliveSeconds is { } keepalive && r.KeepaliveBasis is { } basis)
        {
            var what = basis.Check.StartsWith("udp", StringComparison.Ordinal) ? "idle UDP mappings" : "idle TCP connections";
            text.AppendLine(CultureInfo.InvariantCulture, $"suggestion: send a keepalive at least every {S(keepalive)} s (half the shortest survival measured: {what}, {S(basis.SurvivedSeconds)} s)");
        }
        return text.ToString();
    }

    public static string Mtu(MtuProbeResult r)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"udp: largest payload with DF {r.MaxUdpPayload} bytes (path MTU {r.MeasuredMtu}); kernel path MTU {Num(r.PathMtu)}, route MTU {Num(r.RouteMtu)}; {r.Probes} datagrams");
        text.AppendLine(r.BlackHole
            ? "black hole: datagrams larger than that vanish and no ICMP \"fragmentation needed\" comes back"
            : r.Uncertain
                ? "uncertain: larger datagrams got no answer, but datagrams were lost on the path (loss), so that may not be a limit; no black hole claimed"
            : r.IcmpCached
                ? $"path MTU discovered through ICMP \"fragmentation needed\": the kernel already knew path MTU {Num(r.StartPathMtu)} before this run (an earlier ICMP, kept about 10 min)"
                : r.IcmpSeen
                    ? "path MTU discovered through ICMP \"fragmentation needed\": the kernel lowered its path MTU"
                    : "no limit below the route's MTU");
        if (r.ClientMss is not null || r.ServerMss is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"tcp: MSS here {Num(r.ClientMss)}, at the server {Num(r.ServerMss)}");
        }
        return text.ToString();
    }

    public static string Lb(LbProbeResult r)
    {
        var text = new StringBuilder();
        var answered = r.Tries - r.Failed;
        foreach (var (instance, count) in r.Instances.OrderByDescending(p => p.Value))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Safe(instance)}: {count} ({100.0 * count / Math.Max(1, answered):0}%)");
        }
        var spread = r.Sticky ? "this client sticks to one backend"
            : r.Instances.Count > 1 ? "spread over several backends"
            : "whether this client sticks to one backend is unknown";
        text.AppendLine(CultureInfo.InvariantCulture, $"{r.Instances.Count} instance(s) answered {answered} of {r.Tries} {r.Transport} tries; {spread}; each {(r.Transport == "tcp" ? "connection" : "flow")} {(r.FlowSticky ? "stays on its backend" : "moves between backends")}");
        if (r.Failed > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Failed} of {r.Tries} tries failed ({Safe(r.FirstError)}): a backend may be down");
        }
        return text.ToString();
    }

    private static string Finding(IdleFinding f, double max) => f.LostSeconds is { } lost
        ? $"survive {S(f.SurvivedSeconds)} s, lost by {S(lost)} s (resolution {S(lost - f.SurvivedSeconds)} s)"
        : $"survive {S(f.SurvivedSeconds)} s (nothing lost up to --max {S(max)} s)";

    private static string S(double seconds) => seconds.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Num(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "unknown";

    private static string Addr(System.Net.IPEndPoint? endPoint) => endPoint is null ? "unknown" : EndpointResolver.FormatAddress(endPoint);

    /// <summary>Peer-controlled text, made safe for a terminal by the one sanitiser (escaped, one line, bounded); "unknown" when absent.</summary>
    public static string Safe(string? text) => text is null ? "unknown" : PeerText.Field(text);
}
