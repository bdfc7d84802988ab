using System.Net.Sockets;
using EchoKit.Server;
using Microsoft.Extensions.Time.Testing;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class IdleTimeoutTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private async Task<(EchoServer Server, LogCapture Logs, FakeTimeProvider Time)> StartAsync(TimeSpan idle)
    {
        var logs = TestServer.Logs();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = TestServer.Tcp();
        options.IdleTimeout = idle;
        return (await TestServer.StartServerAsync(Engine, options, logs, time), logs, time);
    }

    /// <summary>
    /// Moves the fake clock by <paramref name="step"/> until the server logs a close. The server stamps its last write
    /// just after the client has the echo, so the stamp may land after an advance: one step can then fall short.
    /// </summary>
    private static async Task<CapturedLogEvent> AdvanceUntilClosedAsync(FakeTimeProvider time, LogCapture logs, TimeSpan step)
    {
        await TestTimeouts.AdvanceUntilAsync(time, step, () => logs.Named("ConnectionClosed").Count > 0, "the idle connection to be closed");
        return logs.Named("ConnectionClosed")[0];
    }

    [Fact]
    public async Task ServerClosesAConnectionQuietForTheIdleTimeout()
    {
        var (server, logs, time) = await StartAsync(TimeSpan.FromSeconds(30));
        await using var _ = server;
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.Equal("hi"u8.ToArray(), await TestClients.EchoAsync(client, "hi"u8.ToArray()));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(logs.Named("ConnectionClosed"));
        Assert.Equal(1, server.ConnectionCount);

        // Well past 30 s.
        var closed = await AdvanceUntilClosedAsync(time, logs, TimeSpan.FromSeconds(31));
        Assert.Equal("idle", closed.Field("Reason"));
        Assert.Equal(server.Listeners[0].Uri, closed.Field("Listener"));
        Assert.StartsWith("127.0.0.1:", closed.Field("Remote"));
        // A graceful close: the client reads end of stream, not a reset.
        Assert.Equal(0, await client.ReceiveAsync(new byte[16].AsMemory(), SocketFlags.None).AsTask().WaitAsync(TestClients.Timeout));
    }

    [Fact]
    public async Task AConnectionLeftIdleWhileTheServerDrainsIsStillClosedByTheIdleTimeout()
    {
        var logs = TestServer.Logs();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = TestServer.Tcp();
        options.IdleTimeout = TimeSpan.FromSeconds(10);
        options.ShutdownTimeout = TimeSpan.FromDays(1); // the drain itself never runs out here
        await using var server = await TestServer.StartServerAsync(Engine, options, logs, time);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.Equal("hi"u8.ToArray(), await TestClients.EchoAsync(client, "hi"u8.ToArray()));

        var stop = server.StopAsync();
        await TestTimeouts.WaitUntilAsync(() => logs.Named("ShutdownStarted").Count > 0, "the drain to begin");
        // Still echoing while it drains: the drain keeps connections, it does not freeze them.
        Assert.Equal("again"u8.ToArray(), await TestClients.EchoAsync(client, "again"u8.ToArray()));

        var closed = await AdvanceUntilClosedAsync(time, logs, TimeSpan.FromSeconds(11));
        Assert.Equal("idle", closed.Field("Reason"));
        await stop.WaitAsync(TestTimeouts.Default);
        Assert.Empty(logs.Named("ShutdownAborting"));
        Assert.Equal(0, await client.ReceiveAsync(new byte[16].AsMemory(), SocketFlags.None).AsTask().WaitAsync(TestClients.Timeout));
    }

    [Fact]
    public async Task TrafficKeepsAConnectionOpenPastTheIdleTimeout()
    {
        var (server, logs, time) = await StartAsync(TimeSpan.FromSeconds(30));
        await using var _ = server;
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);

        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(20));
            Assert.Equal("ping"u8.ToArray(), await TestClients.EchoAsync(client, "ping"u8.ToArray()));
        }
        // 80 s since connect, never 30 s quiet.
        Assert.Empty(logs.Named("ConnectionClosed"));
        Assert.Equal("idle", (await AdvanceUntilClosedAsync(time, logs, TimeSpan.FromSeconds(31))).Field("Reason"));
    }

    [Fact]
    public async Task IdleTlsConnectionIsClosedToo()
    {
        using var certificates = new TestCertificates();
        var logs = TestServer.Logs();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new EchoServerOptions { IdleTimeout = TimeSpan.FromSeconds(10) };
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = certificates.Load();
        await using var server = await TestServer.StartServerAsync(options, logs, time); // TLS only: always served by sockets
        await using var tls = await TestClients.ConnectTlsAsync(server.Listeners[0].EndPoint);
        Assert.Equal("tls"u8.ToArray(), await TestClients.EchoAsync(tls, "tls"u8.ToArray()));

        var closed = await AdvanceUntilClosedAsync(time, logs, TimeSpan.FromSeconds(11));
        Assert.Equal("idle", closed.Field("Reason"));
        Assert.Equal(0, server.Rejections.Total);
    }

    [Fact]
    public async Task ServerWithoutIdleTimeoutKeepsQuietConnections()
    {
        var logs = TestServer.Logs();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartServerAsync(Engine, TestServer.Tcp(), logs, time);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await logs.WaitForAsync("ConnectionOpened");
        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal("x"u8.ToArray(), await TestClients.EchoAsync(client, "x"u8.ToArray()));
        Assert.Empty(logs.Named("ConnectionClosed"));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(8 * 24 * 3600 * 1000.0)]
    public void IdleTimeoutOutOfRangeIsRefused(double milliseconds)
    {
        var options = TestServer.Tcp();
        options.IdleTimeout = TimeSpan.FromMilliseconds(milliseconds);
        Assert.Contains("idle timeout", Assert.Throws<ArgumentException>(options.Validate).Message);
    }
}
