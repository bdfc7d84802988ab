using System.Net.Sockets;
using System.Text;
using EchoKit.Server;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Server;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class ServerLifecycleTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private EchoServerOptions WithEngine(EchoServerOptions options)
    {
        options.Engine = Engine;
        return options;
    }

    [Fact]
    public async Task GracefulStopRefusesNewClientsKeepsEchoingAndEndsWhenTheLastClientLeaves()
    {
        await using var server = await TestServer.StartAsync(Engine);
        var port = server.Port;
        using var open = await server.ConnectAsync();

        var stopping = server.Server.StopAsync();

        // New connects are refused at once...
        var refused = await Assert.ThrowsAsync<SocketException>(() => server.ConnectAsync());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        // ...while the open client keeps echoing.
        await SocketIo.SendAllAsync(open, "still echoing"u8.ToArray());
        Assert.Equal("still echoing", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(open, 13)));
        Assert.False(stopping.IsCompleted);

        // The stop completes once the client leaves.
        open.Shutdown(SocketShutdown.Send);
        Assert.Empty(await SocketIo.ReceiveToEndAsync(open));
        await stopping.WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task ShutdownTimeoutClosesConnectionsThatOutstayItWithAnOrderlyEndOfStream()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(Engine, o => o.ShutdownTimeout = TimeSpan.FromSeconds(30), time: time);
        using var lingering = await server.ConnectAsync();
        await SocketIo.SendAllAsync(lingering, "x"u8.ToArray());
        await SocketIo.ReceiveExactlyAsync(lingering, 1);

        var stopping = server.Server.StopAsync();

        // Within the timeout the connection is left alone.
        time.Advance(TimeSpan.FromSeconds(29));
        await SocketIo.SendAllAsync(lingering, "y"u8.ToArray());
        await SocketIo.ReceiveExactlyAsync(lingering, 1);
        Assert.False(stopping.IsCompleted);

        // Past it, the connection is closed. (The stop's timer may start after our first advance, so keep
        // moving the fake clock until the stop observes it.)
        await TestTimeouts.AdvanceUntilAsync(time, TimeSpan.FromSeconds(31), () => stopping.IsCompleted, "the shutdown timeout to close the connection");

        // The server closed its side with a FIN on both engines, as Kestrel's abort does: the client reads a normal end
        // of stream, not ECONNRESET (everything it sent was read, so the kernel has no reason to reset it).
        Assert.Empty(await SocketIo.ReceiveToEndAsync(lingering));
    }

    [Fact]
    public async Task ShutdownTimeoutClosesAClientStillInItsProxyHeaderWithAnOrderlyEndOfStream()
    {
        // Before the PROXY header is read the connection is a managed socket with a receive pending, on both engines.
        var time = new FakeTimeProvider();
        var options = new EchoServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(30) };
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0") with { UseProxyProtocol = true });
        options.ProxyProtocol.HeaderTimeout = TimeSpan.FromMinutes(5); // the longest allowed: the stop, not the header timeout, closes it
        await using var server = await TestServer.StartServerAsync(Engine, options, time: time);
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.Listeners[0].Port), TestTimeouts.Token());
        await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == 1, "the connection to be accepted");

        var stopping = server.StopAsync();
        await TestTimeouts.AdvanceUntilAsync(time, TimeSpan.FromSeconds(31), () => stopping.IsCompleted, "the shutdown timeout to close the connection");

        Assert.Empty(await SocketIo.ReceiveToEndAsync(silent));
    }

    [Fact]
    public async Task CancellingStopClosesEverythingAtOnce()
    {
        await using var server = await TestServer.StartAsync(Engine, o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        using var lingering = await server.ConnectAsync();
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 1, "the connection to be accepted");

        using var now = new CancellationTokenSource();
        now.Cancel();
        await server.Server.StopAsync(now.Token).WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, server.Server.ConnectionCount);
        await server.Server.StopAsync(); // twice is harmless
    }

    [Fact]
    public async Task ConnectionsThatComeAndGoAreEachCountedOnceAndStopClosesEveryOneStillOpen()
    {
        // More clients than the tracker's first table holds (64), and places freed and taken again in between.
        await using var server = await TestServer.StartAsync(Engine, o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        var clients = new List<Socket>();
        for (var i = 0; i < 150; i++)
        {
            clients.Add(await server.ConnectAsync());
        }
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 150, "150 connections to be accepted");

        // Every other client leaves; as many new ones take their places.
        foreach (var leaving in clients.Where((_, i) => i % 2 == 0).ToArray())
        {
            leaving.Dispose();
            clients.Remove(leaving);
        }
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 75, "75 connections to be left");
        for (var i = 0; i < 75; i++)
        {
            clients.Add(await server.ConnectAsync());
        }
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 150, "150 connections again");

        // Each open connection is listed once, and each still echoes.
        var stats = server.Server.ConnectionStats();
        Assert.Equal(150, stats.Count);
        Assert.Equal(150, stats.Select(s => s.Id).Distinct().Count());
        foreach (var client in clients)
        {
            await SocketIo.SendAllAsync(client, "z"u8.ToArray());
            Assert.Equal("z", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 1)));
        }

        // A stop that cannot wait closes all of them: each client reads the end of its stream (FIN, on both engines).
        using var now = new CancellationTokenSource();
        now.Cancel();
        await server.Server.StopAsync(now.Token).WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, server.Server.ConnectionCount);
        Assert.Empty(server.Server.ConnectionStats());
        foreach (var client in clients)
        {
            Assert.Empty(await SocketIo.ReceiveToEndAsync(client).WaitAsync(TestTimeouts.Default));
            client.Dispose();
        }
    }

    [Fact]
    public async Task RestartOnTheSamePortRightAfterStopWithConnectionsOpen()
    {
        var first = await TestServer.StartAsync(Engine, o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        var port = first.Port;
        using var open = await first.ConnectAsync();
        await SocketIo.SendAllAsync(open, "a"u8.ToArray());
        await SocketIo.ReceiveExactlyAsync(open, 1);
        var draining = first.Server.StopAsync();

        // The old server still drains its connection; a new one binds the same port at once.
        await using var second = await TestServer.StartAsync(Engine, endpoint: $"127.0.0.1:{port}");
        Assert.Equal(port, second.Port);
        using var fresh = await second.ConnectAsync();
        await SocketIo.SendAllAsync(fresh, "b"u8.ToArray());
        Assert.Equal("b", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(fresh, 1)));

        // And the old connection still echoes on the old server.
        await SocketIo.SendAllAsync(open, "c"u8.ToArray());
        Assert.Equal("c", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(open, 1)));
        open.Close();
        await draining.WaitAsync(TestTimeouts.Default);
        await first.DisposeAsync();
    }

    [Fact]
    public async Task SecondServerOnABoundPortFailsWithAddressInUse()
    {
        await using var first = await TestServer.StartAsync(Engine);

        var error = await Assert.ThrowsAsync<ListenerBindException>(() => TestServer.StartAsync(Engine, endpoint: $"127.0.0.1:{first.Port}"));

        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketError);
        Assert.Contains($"127.0.0.1:{first.Port}", error.Message);
        Assert.Contains("in use", error.Message);
    }

    [Fact]
    public async Task ServerThatFailsToBindOneListenerClosesTheOthers()
    {
        await using var taken = await TestServer.StartAsync(Engine);
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        options.Endpoints.Add(ListenEndpoint.Tcp($"127.0.0.1:{taken.Port}"));
        await using var server = new EchoServer(WithEngine(options));

        await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(TestTimeouts.Token()));

        Assert.Empty(server.Listeners);
    }
}
