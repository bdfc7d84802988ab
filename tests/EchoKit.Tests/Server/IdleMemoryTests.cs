using System.Text;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Server;

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
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartAsync(time: time);
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
}
