using System.Text;
using EchoKit.Tests.Support;
using EchoKit.Server;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Functional")]
public sealed class IdleMemoryTests
{
    [Fact]
    public async Task SilentClientHoldsNoReceiveBuffer()
    {
        await using var server = await TestServer.StartAsync();
        using var silent = await server.ConnectAsync();

        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 1, "the connection to be accepted");

        Assert.False(Assert.Single(server.Server.ConnectionStats()).HoldsBuffer);
    }

    [Fact]
    public async Task BusyClientGivesItsBufferBackAfterAQuietSweepPeriodAndStillEchoes()
    {
        // The sockets engine keeps a busy connection's buffer between reads; the epoll engine never does (below).
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(ServerEngine.Sockets, time: time);
        using var client = await server.ConnectAsync();

        await SocketIo.SendAllAsync(client, "a"u8.ToArray());
        await SocketIo.ReceiveExactlyAsync(client, 1);
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionStats().Single().HoldsBuffer, "the busy connection to hold a buffer");

        // One sweep sees recent traffic and leaves the buffer; a quiet one takes it back.
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        await TestTimeouts.WaitUntilAsync(() => !server.Server.ConnectionStats().Single().HoldsBuffer, "the quiet connection to give its buffer back");

        await SocketIo.SendAllAsync(client, "bc"u8.ToArray());
        Assert.Equal("bc", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 2)));
    }

    [Fact]
    public async Task EpollConnectionHoldsNoBufferBetweenMessages()
    {
        await using var server = await TestServer.StartAsync(ServerEngine.Epoll);
        using var client = await server.ConnectAsync();

        await SocketIo.SendAllAsync(client, "abc"u8.ToArray());
        Assert.Equal("abc", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 3)));

        // Echoed at once from the loop's shared buffer: nothing is left for the connection to hold.
        Assert.False(Assert.Single(server.Server.ConnectionStats()).HoldsBuffer);
    }
}
