using System.Net;
using EchoKit.Endpoints;
using EchoKit.Probe;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Functional")]
public sealed class MtuProbeTests
{
    [Fact]
    public async Task MtuProbeOverLoopbackClaimsNoIcmpDiscovery()
    {
        // Loopback's route MTU is 65536 while IP_MTU reports at most 65535: that gap is no ICMP.
        await using var server = await TestServer.StartAsync(options => options.Reflect.UdpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0")));
        var udp = (IPEndPoint)server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+udp://", StringComparison.Ordinal)).EndPoint;

        var result = await MtuProbe.RunAsync(EndpointParser.Parse($"127.0.0.1:{udp.Port}"), TimeSpan.FromSeconds(2), null, TestTimeouts.Token());

        Assert.Equal((65536, 65535), (result.RouteMtu, result.PathMtu));
        Assert.Equal((false, false, false), (result.IcmpSeen, result.IcmpCached, result.BlackHole));
    }

    [Fact]
    public async Task MtuProbeWaitsTwoSecondsForAFirstAnswerAndNamesBothCauses()
    {
        // A bound UDP socket that never answers: no port unreachable, just silence, as when UDP is dropped on the way.
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var started = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<ProbeException>(() => MtuProbe.RunAsync(EndpointParser.Parse($"127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}"), TimeSpan.FromMilliseconds(500), null, TestTimeouts.Token()));

        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.9), $"gave up after {started.Elapsed}");
        Assert.Contains("within 2s (start the server with --reflect-udp, or UDP is dropped on the path)", failure.Message);
    }
}
