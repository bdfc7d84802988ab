using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

/// <summary>
/// Batched receive (recvmmsg/sendmmsg, the default on 64-bit Linux) and the one-at-a-time loop
/// (<see cref="UdpOptions.ReceiveBatch"/> = 1, the only loop elsewhere) must behave the same.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class UdpBatchTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1472)]
    [InlineData(1, UdpOptions.MaxIPv4Datagram)]
    [InlineData(16, 0)]
    [InlineData(16, UdpOptions.MaxIPv4Datagram)]
    public async Task ServerEchoesExactlyWithAndWithoutBatches(int batch, int size)
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveBatch = batch);
        using var client = new UdpTestClient();
        var data = UdpEchoTests.Pattern(size, batch);

        var (echo, from) = await client.ExchangeAsync(data, server.EndPoint);

        Assert.Equal(data, echo);
        Assert.Equal(server.EndPoint, from);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public async Task ServerEchoesABurstLongerThanABatchInOrder(int batch)
    {
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.ReceiveBatch = batch;
        });
        using var client = new UdpTestClient();

        for (var i = 0; i < 40; i++)
        {
            await client.SendAsync(UdpEchoTests.Pattern(i * 37, i), server.EndPoint);
        }
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(UdpEchoTests.Pattern(i * 37, i), (await client.ReceiveAsync()).Data);
        }
        Assert.Equal(40, server.Server.UdpCounters.DatagramsAnswered);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public async Task DeniedDatagramInsideABatchIsDroppedAndTheRestAnswered(int batch)
    {
        using var denied = new UdpTestClient();
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.ReceiveBatch = batch;
            o.Udp.DenySourcePorts.Add(denied.LocalEndPoint.Port);
        });
        using var ordinary = new UdpTestClient();

        await ordinary.SendAsync(new byte[] { 1 }, server.EndPoint);
        await denied.SendAsync(new byte[] { 2 }, server.EndPoint);
        await ordinary.SendAsync(new byte[] { 3 }, server.EndPoint);

        Assert.Equal([1], (await ordinary.ReceiveAsync()).Data);
        Assert.Equal([3], (await ordinary.ReceiveAsync()).Data);
        Assert.Equal(0, denied.Socket.Available);
        Assert.Equal(1, server.Server.UdpCounters.DroppedByRule);
    }

    [Fact]
    public async Task WildcardListenerAnswersBothFamiliesFromBatches()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 1, endpoints: ":0");
        using var v4 = new UdpTestClient(AddressFamily.InterNetwork);
        using var v6 = new UdpTestClient(AddressFamily.InterNetworkV6);

        // Both in flight at once, so one batch can hold an IPv4-mapped and an IPv6 source.
        await v4.SendAsync("four"u8.ToArray(), server.Target(System.Net.IPAddress.Loopback));
        await v6.SendAsync("six"u8.ToArray(), server.Target(System.Net.IPAddress.IPv6Loopback));

        Assert.Equal("four"u8.ToArray(), (await v4.ReceiveAsync()).Data);
        Assert.Equal("six"u8.ToArray(), (await v6.ReceiveAsync()).Data);
    }
}
