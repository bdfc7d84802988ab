using System.Net;
using System.Net.Sockets;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

/// <summary>
/// A listener on a wildcard address answers each datagram from the address it was sent to (IP_PKTINFO /
/// IPV6_PKTINFO), not from the one the kernel's route picks: on a host with several addresses a client that checks
/// the answer's source (as <c>echokit send --udp</c> does) would otherwise drop it. Loopback is such a host: a
/// datagram to 127.0.0.2 was answered from 127.0.0.1. Batches of one (<c>ReceiveBatch = 1</c>) must do the same.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class UdpAnswerSourceTests
{
    [Theory]
    [InlineData(":0", "127.0.0.2", 16)]
    [InlineData(":0", "127.0.0.2", 1)]
    [InlineData(":0", "127.0.0.1", 16)]
    [InlineData(":0", "::1", 16)]
    [InlineData(":0", "::1", 1)]
    [InlineData("0.0.0.0:0", "127.0.0.2", 16)]
    [InlineData("0.0.0.0:0", "127.0.0.2", 1)]
    [InlineData("0.0.0.0:0", "127.0.0.1", 1)]
    public async Task WildcardListenerAnswersFromTheAddressTheDatagramWasSentTo(string endpoint, string sentTo, int batch)
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveBatch = batch, endpoints: endpoint);
        var target = server.Target(IPAddress.Parse(sentTo));
        using var client = new UdpTestClient(target.AddressFamily);

        var (echo, from) = await client.ExchangeAsync("hello"u8.ToArray(), target);

        Assert.Equal("hello"u8.ToArray(), echo);
        Assert.Equal(target, from);
    }

    [Fact]
    public async Task EachEchoInABatchLeavesFromItsOwnDatagramsDestination()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 1, endpoints: ":0");
        using var v4 = new UdpTestClient(AddressFamily.InterNetwork);
        using var v6 = new UdpTestClient(AddressFamily.InterNetworkV6);
        var second = server.Target(IPAddress.Parse("127.0.0.2"));
        var first = server.Target(IPAddress.Loopback);
        var six = server.Target(IPAddress.IPv6Loopback);

        // All in flight at once, so one batch can hold datagrams to three destinations, IPv4-mapped and IPv6 mixed.
        await v4.SendAsync(new byte[] { 2 }, second);
        await v6.SendAsync(new byte[] { 6 }, six);
        await v4.SendAsync(new byte[] { 1 }, first);

        // One source is answered in the order it sent.
        var (two, fromSecond) = await v4.ReceiveAsync();
        var (one, fromFirst) = await v4.ReceiveAsync();
        var (echo6, fromSix) = await v6.ReceiveAsync();
        Assert.Equal([2], two);
        Assert.Equal(second, fromSecond);
        Assert.Equal([1], one);
        Assert.Equal(first, fromFirst);
        Assert.Equal([6], echo6);
        Assert.Equal(six, fromSix);
    }

    [Fact]
    public async Task ListenerOnOneAddressAnswersFromIt()
    {
        await using var server = await TestServer.StartUdpAsync(endpoints: "127.0.0.2:0");
        using var client = new UdpTestClient();

        var (_, from) = await client.ExchangeAsync([7], server.EndPoint);

        Assert.Equal(IPAddress.Parse("127.0.0.2"), server.EndPoint.Address);
        Assert.Equal(server.EndPoint, from);
    }
}
