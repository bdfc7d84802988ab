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
}
