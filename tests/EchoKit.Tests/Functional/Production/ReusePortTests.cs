using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Functional")]
public sealed class ReusePortTests
{
    [Fact]
    public async Task TwoServersWithReusePortShareOnePort()
    {
        var options = TestServer.Tcp();
        options.ReusePort = true;
        await using var first = await TestServer.StartServerAsync(options, TestServer.Logs());
        var port = first.Listeners[0].Port;

        var again = TestServer.Tcp($"127.0.0.1:{port}");
        again.ReusePort = true;
        await using var second = await TestServer.StartServerAsync(again, TestServer.Logs());
        Assert.Equal(port, second.Listeners[0].Port);

        // Both serve; after the first stops, the port still answers through the second.
        await first.StopAsync();
        using var client = await TestClients.ConnectAsync(second.Listeners[0]);
        Assert.Equal("shared"u8.ToArray(), await TestClients.EchoAsync(client, "shared"u8.ToArray()));
    }

    [Fact]
    public async Task WithoutReusePortASecondServerFailsToBind()
    {
        var options = TestServer.Tcp();
        options.ReusePort = true; // the first may set it: sharing needs both sides to
        await using var first = await TestServer.StartServerAsync(options, TestServer.Logs());
        var second = new EchoServer(TestServer.Tcp($"127.0.0.1:{first.Listeners[0].Port}"), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => second.StartAsync(CancellationToken.None));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketError);
    }
}
