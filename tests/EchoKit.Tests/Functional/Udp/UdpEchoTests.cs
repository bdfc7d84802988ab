using System.Net;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Functional")]
public sealed class UdpEchoTests
{
    internal static byte[] Pattern(int size, int seed = 0)
    {
        var data = new byte[size];
        for (var i = 0; i < size; i++)
        {
            data[i] = (byte)((i * 31 + seed * 7 + (i >> 8)) & 0xFF);
        }
        return data;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(1472)]
    [InlineData(8192)]
    [InlineData(UdpOptions.MaxIPv4Datagram)]
    public async Task ServerEchoesDatagramExactlyOverIPv4(int size)
    {
        await using var server = await TestServer.StartUdpAsync();
        using var client = new UdpTestClient();
        var data = Pattern(size, size);

        var (echo, from) = await client.ExchangeAsync(data, server.EndPoint);

        Assert.Equal(data, echo);
        Assert.Equal(server.EndPoint, from);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(1472)]
    [InlineData(8192)]
    [InlineData(UdpOptions.MaxIPv6Datagram)]
    public async Task ServerEchoesDatagramExactlyOverIPv6(int size)
    {
        await using var server = await TestServer.StartUdpAsync(endpoints: "[::1]:0");
        using var client = new UdpTestClient(AddressFamily.InterNetworkV6);
        var data = Pattern(size, size);

        var (echo, from) = await client.ExchangeAsync(data, server.EndPoint);

        Assert.Equal(data, echo);
        Assert.Equal(server.EndPoint, from);
    }

    [Fact]
    public async Task WildcardListenerAnswersIPv4AndIPv6Clients()
    {
        await using var server = await TestServer.StartUdpAsync(endpoints: ":0");
        using var v4 = new UdpTestClient(AddressFamily.InterNetwork);
        using var v6 = new UdpTestClient(AddressFamily.InterNetworkV6);

        var (echo4, from4) = await v4.ExchangeAsync("four"u8.ToArray(), server.Target(IPAddress.Loopback));
        var (echo6, from6) = await v6.ExchangeAsync("six"u8.ToArray(), server.Target(IPAddress.IPv6Loopback));

        Assert.Equal("four"u8.ToArray(), echo4);
        Assert.Equal(IPAddress.Loopback, from4.Address);
        Assert.Equal("six"u8.ToArray(), echo6);
        Assert.Equal(IPAddress.IPv6Loopback, from6.Address);
        Assert.StartsWith("udp://[::]:", server.Server.Listeners[0].Uri);
    }

    [Fact]
    public async Task EachSourceGetsOnlyItsOwnAnswers()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 4);
        using var a = new UdpTestClient();
        using var b = new UdpTestClient();

        for (var i = 0; i < 20; i++)
        {
            await a.SendAsync(Pattern(100, 1), server.EndPoint);
            await b.SendAsync(Pattern(200, 2), server.EndPoint);
        }
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Pattern(100, 1), (await a.ReceiveAsync()).Data);
            Assert.Equal(Pattern(200, 2), (await b.ReceiveAsync()).Data);
        }
    }

    [Fact]
    public async Task CountersCountDatagramsAndBytes()
    {
        await using var server = await TestServer.StartUdpAsync();
        using var client = new UdpTestClient();

        for (var i = 0; i < 10; i++)
        {
            await client.ExchangeAsync(Pattern(100), server.EndPoint);
        }

        var counts = server.Server.UdpCounters.Snapshot();
        Assert.Equal(10, counts.DatagramsReceived);
        Assert.Equal(10, counts.DatagramsAnswered);
        Assert.Equal(1000, counts.BytesReceived);
        Assert.Equal(1000, counts.BytesSent);
        Assert.Equal(1, counts.NewSources);
        Assert.Equal(0, counts.DroppedByRule + counts.DroppedByRate + counts.SendErrors);
    }

    [Fact]
    public async Task StoppedServerClosesItsPort()
    {
        var server = await TestServer.StartUdpAsync();
        var address = server.EndPoint;
        using var client = new UdpTestClient();
        await client.ExchangeAsync([1, 2, 3], address);

        using var cts = new CancellationTokenSource(Support.TestTimeouts.Default);
        await server.Server.StopAsync(cts.Token);

        // The port is free again: binding it succeeds (while the server held it, it would fail).
        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        again.Bind(address);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task SecondServerOnTheSamePortFailsToBind()
    {
        await using var first = await TestServer.StartUdpAsync();

        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Udp($"127.0.0.1:{first.EndPoint.Port}"));
        await using var second = new EchoServer(options);
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => second.StartAsync(CancellationToken.None));

        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketError);
        Assert.Contains("udp://127.0.0.1:", ex.Message);
    }

    [Fact]
    public async Task TcpAndUdpListenersRunInOneServer()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        options.Endpoints.Add(ListenEndpoint.Udp("127.0.0.1:0"));
        await using var server = new EchoServer(options);
        await server.StartAsync(CancellationToken.None);

        Assert.Equal([ListenProtocol.Tcp, ListenProtocol.Udp], server.Listeners.Select(l => l.Protocol));
        using var client = new UdpTestClient();
        var (echo, _) = await client.ExchangeAsync("both"u8.ToArray(), server.Listeners[1].EndPoint);
        Assert.Equal("both"u8.ToArray(), echo);
    }
}
