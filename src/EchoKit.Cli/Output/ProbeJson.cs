using System.Text;
using System.Text.Json;
using EchoKit.Endpoints;
using EchoKit.Probe;

namespace EchoKit.Cli.Output;

/// <summary>The <c>--json</c> documents of <c>echokit probe</c> (field names in docs/probe.md).</summary>
internal static class ProbeJson
{
    public static string Nat(NatProbeResult r) => Write(json =>
    {
        json.WriteBoolean("nat", r.Nat);
        json.WriteString("local", r.Local);
        json.WriteString("seen", r.Seen);
        json.WriteBoolean("port_preserved", r.PortPreserved);
        json.WriteString("dialed", r.Dialed);
        json.WriteString("server_local", r.ServerLocal);
        json.WriteString("instance", r.Instance);
        json.WriteStartObject("mss");
        Number(json, "client", r.ClientMss);
        Number(json, "server", r.ServerMss);
        json.WriteBoolean("clamped", r.MssClampedTo is not null);
        Number(json, "clamped_to", r.MssClampedTo);
        json.WriteEndObject();
        Number(json, "hops", r.Hops);
        Number(json, "ttl", r.Ttl);
        json.WriteStartObject("dscp");
        json.WriteNumber("sent", r.DscpSent);
        Number(json, "seen", r.DscpSeen);
        if (r.DscpRewritten is { } rewritten)
        {
            json.WriteBoolean("rewritten", rewritten);
        }
        else
        {
            json.WriteNull("rewritten");
        }
        json.WriteEndObject();
        Number(json, "ecn", r.Ecn);
        json.WriteString("udp_local", r.UdpLocal);
        json.WriteString("udp_seen", r.UdpSeen);
        if (r.Proxy is { } proxy)
        {
            json.WriteStartObject("proxy");
            json.WriteNumber("version", proxy.Version);
            json.WriteString("command", proxy.Command.ToString().ToLowerInvariant());
            json.WriteString("source", proxy.Source is null ? null : EndpointResolver.FormatAddress(proxy.Source));
            json.WriteString("destination", proxy.Destination is null ? null : EndpointResolver.FormatAddress(proxy.Destination));
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("proxy");
        }
        json.WriteStartArray("proxy_problems");
        foreach (var problem in r.ProxyProblems)
        {
            json.WriteStringValue(problem);
        }
        json.WriteEndArray();
    });

    public static string Idle(IdleProbeResult r) => Write(json =>
    {
        json.WriteNumber("max_seconds", r.MaxSeconds);
        Finding(json, "tcp", r.Tcp);
        Finding(json, "udp", r.Udp);
        json.WriteStartArray("checks");
        foreach (var f in r.Findings)
        {
            json.WriteStartObject();
            json.WriteString("check", f.Check);
            FindingFields(json, f);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        Number(json, "suggested_keepalive_seconds", r.SuggestedKeepaliveSeconds);
    });

    public static string Mtu(MtuProbeResult r) => Write(json =>
    {
        json.WriteNumber("max_udp_payload", r.MaxUdpPayload);
        json.WriteNumber("measured_mtu", r.MeasuredMtu);
        Number(json, "path_mtu", r.PathMtu);
        Number(json, "route_mtu", r.RouteMtu);
        Number(json, "start_path_mtu", r.StartPathMtu);
        json.WriteBoolean("black_hole", r.BlackHole);
        json.WriteBoolean("uncertain", r.Uncertain);
        json.WriteBoolean("icmp", r.IcmpSeen);
        json.WriteBoolean("icmp_cached", r.IcmpCached);
        json.WriteStartObject("mss");
        Number(json, "client", r.ClientMss);
        Number(json, "server", r.ServerMss);
        json.WriteEndObject();
        json.WriteNumber("probes", r.Probes);
    });

    public static string Lb(LbProbeResult r) => Write(json =>
    {
        json.WriteString("transport", r.Transport);
        json.WriteNumber("tries", r.Tries);
        json.WriteNumber("failed", r.Failed);
        json.WriteStartObject("instances");
        foreach (var (instance, count) in r.Instances)
        {
            json.WriteNumber(instance, count);
        }
        json.WriteEndObject();
        json.WriteBoolean("sticky", r.Sticky);
        json.WriteBoolean("flow_sticky", r.FlowSticky);
        if (r.FirstError is null)
        {
            json.WriteNull("error");
        }
        else
        {
            json.WriteString("error", r.FirstError);
        }
    });

    private static void Finding(Utf8JsonWriter json, string name, IdleFinding? finding)
    {
        if (finding is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        FindingFields(json, finding);
        json.WriteEndObject();
    }

    private static void FindingFields(Utf8JsonWriter json, IdleFinding f)
    {
        json.WriteNumber("survived_seconds", f.SurvivedSeconds);
        Number(json, "lost_seconds", f.LostSeconds);
        Number(json, "resolution_seconds", f.ResolutionSeconds);
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
