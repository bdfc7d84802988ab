using System.Net;
using EchoKit.Server;
using Xunit.Abstractions;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

/// <summary>
/// The deny rules. One receive loop keeps datagrams in arrival order, so once the ordinary client's echo is back, the
/// denied datagram sent before it has been handled: had it been answered, its answer would already be there.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class UdpRuleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServerDropsDatagramFromDeniedSourcePortAndAnswersOrdinaryPort()
    {
        using var denied = new UdpTestClient();
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.DenySourcePorts.Add(denied.LocalEndPoint.Port);
        });
        using var ordinary = new UdpTestClient();

        await denied.SendAsync("from a denied port"u8.ToArray(), server.EndPoint);
        var (echo, _) = await ordinary.ExchangeAsync("ordinary"u8.ToArray(), server.EndPoint);

        Assert.Equal("ordinary"u8.ToArray(), echo);
        Assert.Equal(0, denied.Socket.Available);
        var counts = server.Server.UdpCounters.Snapshot();
        Assert.Equal(1, counts.DroppedByRule);
        Assert.Equal(1, counts.DatagramsAnswered);
        Assert.Equal(2, counts.DatagramsReceived);
    }

    [Fact]
    public async Task ServerDropsDatagramFromADeniedAddressRange()
    {
        using var denied = new UdpTestClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.AccessList = new EchoKit.Server.AccessControl.IpAccessList([], [EchoKit.Server.AccessControl.IpNetwork.Parse("127.0.0.2/32")]);
        });
        using var ordinary = new UdpTestClient();

        await denied.SendAsync("from a denied address"u8.ToArray(), server.Target(IPAddress.Loopback));
        var (echo, _) = await ordinary.ExchangeAsync("ordinary"u8.ToArray(), server.Target(IPAddress.Loopback));

        Assert.Equal("ordinary"u8.ToArray(), echo);
        Assert.Equal(0, denied.Socket.Available);
        Assert.Equal(1, server.Server.UdpCounters.DroppedByRule);
    }

    [Fact]
    public async Task ServerDropsDatagramFromWellKnownServicePortByDefault()
    {
        // Binding ports below 1024 needs root (or CAP_NET_BIND_SERVICE).
        using var denied = UdpTestClient.TryBind(IPAddress.Loopback, 7, 9, 13, 17, 19, 37);
        if (denied is null)
        {
            output.WriteLine("SKIPPED: cannot bind a UDP port below 1024 here (not root); the deny rule itself is covered by ServerDropsDatagramFromDeniedSourcePortAndAnswersOrdinaryPort");
            return;
        }
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 1);
        using var ordinary = new UdpTestClient();

        await denied.SendAsync("chargen says hi"u8.ToArray(), server.EndPoint);
        await ordinary.ExchangeAsync("ordinary"u8.ToArray(), server.EndPoint);

        Assert.Contains(denied.LocalEndPoint.Port, UdpOptions.DefaultDenySourcePorts);
        Assert.Equal(0, denied.Socket.Available);
        Assert.Equal(1, server.Server.UdpCounters.DroppedByRule);
    }

    [Fact]
    public async Task ServerDropsDatagramFromItsOwnPort()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 1);
        // Another "echo server" on the same port number at another loopback address.
        using var twin = new UdpTestClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), server.EndPoint.Port));
        using var ordinary = new UdpTestClient();

        await twin.SendAsync("loop?"u8.ToArray(), server.EndPoint);
        await ordinary.ExchangeAsync("ordinary"u8.ToArray(), server.EndPoint);

        Assert.Equal(0, twin.Socket.Available);
        Assert.Equal(1, server.Server.UdpCounters.DroppedByRule);
    }

    [Fact]
    public async Task EmptyDenyListAnswersEveryPort()
    {
        using var client = new UdpTestClient();
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.DenySourcePorts.Clear());

        var (echo, _) = await client.ExchangeAsync([42], server.EndPoint);

        Assert.Equal([42], echo);
    }
}
