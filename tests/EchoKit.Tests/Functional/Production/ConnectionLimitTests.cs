using System.Text;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class ConnectionLimitTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    [Fact]
    public async Task ServerClosesConnectionsBeyondTheLimitWithoutEcho()
    {
        var logs = TestServer.Logs();
        var options = TestServer.Tcp();
        options.MaxConnections = 2;
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);
        var listener = server.Listeners[0];

        using var first = await TestClients.ConnectAsync(listener);
        using var second = await TestClients.ConnectAsync(listener);
        Assert.Equal("one"u8.ToArray(), await TestClients.EchoAsync(first, "one"u8.ToArray()));
        Assert.Equal("two"u8.ToArray(), await TestClients.EchoAsync(second, "two"u8.ToArray()));

        using var third = await TestClients.ConnectAsync(listener);
        await third.SendAsync("three"u8.ToArray());
        Assert.True(await TestClients.ClosedWithoutDataAsync(third));

        var rejected = await logs.WaitForAsync("ConnectionRejected");
        Assert.Contains("2 connection(s) open", rejected.Message);
        Assert.Equal(listener.Uri, rejected.Field("Listener"));
        Assert.StartsWith("127.0.0.1:", rejected.Field("Remote"));
        Assert.Equal(1, server.Rejections.MaxConnections);
        Assert.Equal(1, server.ListenerRejections[listener.Uri].MaxConnections);
        Assert.Equal(0, server.Rejections.Denied);

        // The first two are untouched.
        Assert.Equal("still"u8.ToArray(), await TestClients.EchoAsync(first, "still"u8.ToArray()));
        Assert.Equal("here"u8.ToArray(), await TestClients.EchoAsync(second, "here"u8.ToArray()));
        Assert.Equal(2, server.ConnectionCount);
    }

    [Fact]
    public async Task ServerReusesAFreedSlot()
    {
        var logs = TestServer.Logs();
        var options = TestServer.Tcp();
        options.MaxConnections = 1;
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);
        var listener = server.Listeners[0];

        var first = await TestClients.ConnectAsync(listener);
        Assert.Equal("a"u8.ToArray(), await TestClients.EchoAsync(first, "a"u8.ToArray()));
        using (var refused = await TestClients.ConnectAsync(listener))
        {
            Assert.True(await TestClients.ClosedWithoutDataAsync(refused));
        }

        first.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.True(await TestClients.ClosedWithoutDataAsync(first));
        first.Dispose();
        await logs.WaitForAsync("ConnectionClosed");

        using var next = await TestClients.ConnectAsync(listener);
        var payload = Encoding.UTF8.GetBytes("slot freed");
        Assert.Equal(payload, await TestClients.EchoAsync(next, payload));
        Assert.Equal(1, server.Rejections.MaxConnections);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_000_001)]
    public void MaxConnectionsOutOfRangeIsRefused(int max)
    {
        var options = TestServer.Tcp();
        options.MaxConnections = max;
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("max connections", ex.Message);
    }
}
