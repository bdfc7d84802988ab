using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Testing;

[Trait("Kind", "Functional")]
public sealed class EchoTestServerTests
{
    [Fact]
    public async Task StartsOnLoopbackPortZeroAndEchoes()
    {
        await using var echo = await EchoTestServer.StartAsync(cancellationToken: TestTimeouts.Token());

        Assert.Equal(IPAddress.Loopback, echo.EndPoint.Address);
        Assert.NotEqual(0, echo.Port);
        Assert.Equal(new Uri($"tcp://127.0.0.1:{echo.Port}"), echo.Uri);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(echo.EndPoint, TestTimeouts.Token());
        await SocketIo.SendAllAsync(client, "hello"u8.ToArray());
        Assert.Equal("hello", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 5)));
    }

    [Fact]
    public async Task CapturesTheConnectionEventsTheServerLogs()
    {
        await using var echo = await EchoTestServer.StartAsync(cancellationToken: TestTimeouts.Token());
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(echo.EndPoint, TestTimeouts.Token());
            await SocketIo.SendAllAsync(client, "abc"u8.ToArray());
            await SocketIo.ReceiveExactlyAsync(client, 3);
            client.Shutdown(SocketShutdown.Send);
        }

        var closed = await echo.Log.WaitForAsync("ConnectionClosed", timeout: TestTimeouts.Default);

        Assert.Equal("EchoKit.Server", closed.Category);
        Assert.Contains(echo.LogEvents, e => e.Name == "ConnectionOpened");
        Assert.Contains("3", closed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeepsEndpointsTheCallerConfigured()
    {
        await using var echo = await EchoTestServer.StartAsync(
            o => o.Endpoints.Add(EchoKit.Server.ListenEndpoint.Udp("127.0.0.1:0")), cancellationToken: TestTimeouts.Token());

        Assert.Single(echo.Server.Listeners);
        Assert.Equal("udp", echo.Uri.Scheme);
    }

    [Fact]
    public async Task WaitingForAnEventThatNeverComesTimesOutNamingWhatWasSeen()
    {
        var time = new FakeTimeProvider();
        var log = new LogCapture { TimeProvider = time };
        await using var echo = await EchoTestServer.StartWithOptionsAsync(new EchoServerOptions(), log, cancellationToken: TestTimeouts.Token());
        Assert.Same(log, echo.Log);

        var wait = echo.Log.WaitForAsync("NoSuchEvent", timeout: TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        Assert.False(wait.IsCompleted, "gave up before its timeout");
        time.Advance(TimeSpan.FromTicks(1));
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => wait);

        Assert.Contains("NoSuchEvent", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Listening", ex.Message, StringComparison.Ordinal);
    }
}
