using System.Text.Json;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Lab;

/// <summary>
/// <c>echokit probe</c> against <c>serve --reflect-*</c> across a real router built in network namespaces
/// (bench/lab/netlab.sh): each test configures one thing in the router and checks the probe reports it.
/// </summary>
[Trait("Kind", "Cli")]
public sealed class ProbeLabTests
{
    // Generous per-answer timeouts below: on a loaded machine a slow answer must not pass for a lost one.
    private static readonly TimeSpan ProbeTimeout = TestTimeouts.Lab;

    [LabFact]
    public async Task NatProbeReportsTheAddressTheRouterMasqueradedAndTheMssItClamped()
    {
        await using var lab = await NetLab.UpAsync("--nat", "--mss", "1000", "--dscp", "0");
        await lab.StartReflectServerAsync();

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "nat", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--json");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.True(json.GetProperty("nat").GetBoolean());
        Assert.StartsWith($"{lab.ClientIp}:", json.GetProperty("local").GetString());
        Assert.StartsWith($"{lab.RouterServerIp}:", json.GetProperty("seen").GetString());
        Assert.True(json.GetProperty("port_preserved").GetBoolean());
        Assert.Equal(1000, json.GetProperty("mss").GetProperty("clamped_to").GetInt32());
        Assert.Equal(1, json.GetProperty("hops").GetInt32());
        Assert.True(json.GetProperty("dscp").GetProperty("rewritten").GetBoolean());
        Assert.Equal(0, json.GetProperty("dscp").GetProperty("seen").GetInt32());
    }

    [LabFact]
    public async Task IdleProbeFindsTheFirewallsFiveSecondConntrackTimeout()
    {
        await using var lab = await NetLab.UpAsync("--nat", "--filter", "--ct-timeout", "5", "--ct-timeout-udp", "5");
        await lab.StartReflectServerAsync();

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "idle", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--max", "20s", "--grace", "3s", "--json");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        foreach (var kind in new[] { "tcp", "udp" })
        {
            var finding = json.GetProperty(kind);
            var survived = finding.GetProperty("survived_seconds").GetDouble();
            var lost = finding.GetProperty("lost_seconds").GetDouble();
            Assert.InRange(survived, 4, 8);
            Assert.InRange(lost, 4, 8);
            Assert.True(survived < lost, $"{kind}: survived {survived} s, lost {lost} s");
        }
        // Progress lines went to stderr while stdout held the document.
        Assert.Contains("tcp-inbound: idle 1 s survived", stderr);
    }

    [LabFact]
    public async Task MtuProbeFindsTheBlackHoleWhenTheRouterDropsFragmentationNeeded()
    {
        await using var lab = await NetLab.UpAsync("--mtu", "1400", "--icmp-frag", "drop");
        await lab.StartReflectServerAsync();

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--timeout", "1500ms", "--json");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(1372, json.GetProperty("max_udp_payload").GetInt32());
        Assert.True(json.GetProperty("black_hole").GetBoolean());
        Assert.Equal(1500, json.GetProperty("path_mtu").GetInt32());
    }

    [LabFact]
    public async Task MtuProbeUnderRandomLossFindsTheWholePathAndNoBlackHole()
    {
        // No MTU limit, 15 % of forwarded packets dropped (28 % of round trips). A size is lost only after 24 datagrams
        // went unanswered, so a false limit comes about once in 10^13 sizes; 20 runs (each a few seconds at most) made
        // the old two-tries rule report a black hole in most test runs.
        await using var lab = await NetLab.UpAsync();
        await lab.StartReflectServerAsync();
        await lab.SetAsync("loss", "15");

        for (var run = 0; run < 20; run++)
        {
            var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--json");

            Assert.True(code == 0, stderr);
            var json = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal((1472, false), (json.GetProperty("max_udp_payload").GetInt32(), json.GetProperty("black_hole").GetBoolean()));
        }
    }

    [LabFact]
    public async Task MtuProbeSaysThePathMtuWasDiscoveredWhenTheRouterSendsFragmentationNeeded()
    {
        await using var lab = await NetLab.UpAsync("--mtu", "1400", "--icmp-frag", "allow");
        await lab.StartReflectServerAsync();

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--timeout", "1500ms");

        Assert.True(code == 0, stderr);
        Assert.Contains("largest payload with DF 1372 bytes", stdout);
        Assert.Contains("path MTU discovered through ICMP", stdout);
        Assert.Contains("kernel path MTU 1400", stdout);
    }

    [LabFact]
    public Task MtuProbeRunAgainWhileTheKernelRemembersThePathMtuGivesTheSameVerdict() => SameVerdictTwiceAsync(ipv6: false);

    [LabFact(ipv6: true)]
    public Task MtuProbeRunAgainOverIpv6WhileTheKernelRemembersThePathMtuGivesTheSameVerdict() => SameVerdictTwiceAsync(ipv6: true);

    // The first run makes the router send ICMP "fragmentation needed" / "packet too big"; the kernel keeps the path
    // MTU it learned for about 10 minutes, so the second run starts with it already lowered. Both must find the
    // route's MTU (1500, the client's link) and say the 1400 bottleneck was discovered through ICMP.
    private static async Task SameVerdictTwiceAsync(bool ipv6)
    {
        await using var lab = await NetLab.UpAsync(ipv6 ? ["--mtu", "1400", "--icmp-frag", "allow", "--ipv6"] : ["--mtu", "1400", "--icmp-frag", "allow"]);
        await lab.StartReflectServerAsync();
        var target = ipv6 ? $"[{lab.ServerIp6}]:{NetLab.ReflectPort}" : $"{lab.ServerIp}:{NetLab.ReflectPort}";
        var payload = 1400 - (ipv6 ? 48 : 28);

        var runs = new List<JsonElement>();
        for (var run = 0; run < 2; run++)
        {
            var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", target, "--timeout", "1500ms", "--json");
            Assert.True(code == 0, stderr);
            runs.Add(JsonDocument.Parse(stdout).RootElement);
        }
        var (textCode, text, textErrors) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", target, "--timeout", "1500ms");

        foreach (var json in runs)
        {
            Assert.Equal(
                (payload, 1400, 1500, true, false),
                (json.GetProperty("max_udp_payload").GetInt32(), json.GetProperty("path_mtu").GetInt32(), json.GetProperty("route_mtu").GetInt32(),
                    json.GetProperty("icmp").GetBoolean(), json.GetProperty("black_hole").GetBoolean()));
        }
        Assert.Equal((1500, false), (runs[0].GetProperty("start_path_mtu").GetInt32(), runs[0].GetProperty("icmp_cached").GetBoolean()));
        Assert.Equal((1400, true), (runs[1].GetProperty("start_path_mtu").GetInt32(), runs[1].GetProperty("icmp_cached").GetBoolean()));
        Assert.True(textCode == 0, textErrors);
        Assert.Contains("kernel path MTU 1400, route MTU 1500", text);
        Assert.Contains("path MTU discovered through ICMP \"fragmentation needed\": the kernel already knew path MTU 1400 before this run", text);
    }

    [LabFact]
    public async Task MtuProbeTakesAnMtuSetOnTheRouteItselfAsTheRoutesMtu()
    {
        await using var lab = await NetLab.UpAsync("--mtu", "1400", "--icmp-frag", "allow");
        await lab.StartReflectServerAsync();
        // The client's link stays at 1500; its route says 1300, which the kernel uses before the device's MTU.
        var (routeCode, _, routeErrors) = await EchokitProcess.RunProgramAsync("ip", ["-n", $"{lab.Id}-client", "route", "replace", "default", "via", "10.77.1.1", "mtu", "1300"], TestTimeouts.Default);
        Assert.True(routeCode == 0, routeErrors);

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "mtu", $"{lab.ServerIp}:{NetLab.ReflectPort}", "--timeout", "1500ms", "--json");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(
            (1272, 1300, 1300, false, false),
            (json.GetProperty("max_udp_payload").GetInt32(), json.GetProperty("route_mtu").GetInt32(), json.GetProperty("path_mtu").GetInt32(),
                json.GetProperty("icmp").GetBoolean(), json.GetProperty("black_hole").GetBoolean()));
    }

    [LabFact]
    public async Task LbProbeSeesBothServersBehindTheNumgenBalancer()
    {
        await using var lab = await NetLab.UpAsync("--lb");
        await lab.StartReflectServerAsync("server", "one");
        await lab.StartReflectServerAsync("server2", "two");

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "lb", $"{lab.Vip}:{NetLab.ReflectPort}", "-n", "10", "--timeout", "5s", "--json");

        Assert.True(code == 0, stderr);
        var instances = JsonDocument.Parse(stdout).RootElement.GetProperty("instances");
        // numgen inc mod 2 alternates new connections: exactly half each.
        Assert.Equal(5, instances.GetProperty("one").GetInt32());
        Assert.Equal(5, instances.GetProperty("two").GetInt32());
        Assert.False(JsonDocument.Parse(stdout).RootElement.GetProperty("sticky").GetBoolean());
    }

    [LabFact]
    public async Task LbProbeWithOneBackendDownSaysTriesFailedAndClaimsNoStickiness()
    {
        await using var lab = await NetLab.UpAsync("--lb");
        await lab.StartReflectServerAsync("server", "one"); // server2 runs nothing: its half of the tries is refused

        var (code, stdout, stderr) = await lab.RunClientAsync(ProbeTimeout, "probe", "lb", $"{lab.Vip}:{NetLab.ReflectPort}", "-n", "10", "--timeout", "5s", "--json");
        var (textCode, text, textErrors) = await lab.RunClientAsync(ProbeTimeout, "probe", "lb", $"{lab.Vip}:{NetLab.ReflectPort}", "-n", "10", "--timeout", "5s");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((5, false), (json.GetProperty("failed").GetInt32(), json.GetProperty("sticky").GetBoolean()));
        Assert.Contains("connection refused", json.GetProperty("error").GetString());
        Assert.True(textCode == 0, textErrors);
        Assert.DoesNotContain("sticks to one backend;", text);
        Assert.Contains("5 of 10 tries failed (cannot connect to", text);
        Assert.Contains("connection refused): a backend may be down", text);
    }
}
