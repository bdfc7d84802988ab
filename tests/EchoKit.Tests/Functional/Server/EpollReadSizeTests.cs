using System.Text;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Server;

/// <summary>
/// The epoll engine reads <see cref="EchoServerOptions.ReceiveBufferSize"/> at a time and grows a bulk sender's reads
/// to four times that, as the sockets engine grows its buffer; what it holds for a client that does not read stays
/// within that (TcpEchoTests.NonReadingClientIsBoundedAndDoesNotDelayOthers, on both engines).
/// </summary>
[Trait("Kind", "Functional")]
public sealed class EpollReadSizeTests
{
    [Fact]
    public async Task ABulkSendersReadsGrowToFourTimesTheBufferSizeAndTheEchoStaysExact()
    {
        await using var server = await TestServer.StartAsync(ServerEngine.Epoll, o => o.ReceiveBufferSize = 1024);
        using var client = await server.ConnectAsync();
        var payload = SocketIo.RandomBytes(1024 * 1024, seed: 21);

        var reading = SocketIo.ReceiveExactlyAsync(client, payload.Length);
        await SocketIo.SendAllAsync(client, payload);

        var echo = await reading;

        Assert.True(payload.AsSpan().SequenceEqual(echo), "echo differs from payload");
        Assert.Equal(4 * 1024, Assert.Single(server.Server.ConnectionStats()).ReadSize);
    }

    [Fact]
    public async Task AClientOfSmallMessagesKeepsTheConfiguredReadSize()
    {
        await using var server = await TestServer.StartAsync(ServerEngine.Epoll, o => o.ReceiveBufferSize = 1024);
        using var client = await server.ConnectAsync();

        for (var i = 0; i < 20; i++)
        {
            var message = Encoding.ASCII.GetBytes($"message {i}");
            await SocketIo.SendAllAsync(client, message);
            Assert.Equal(message, await SocketIo.ReceiveExactlyAsync(client, message.Length));
        }

        Assert.Equal(1024, Assert.Single(server.Server.ConnectionStats()).ReadSize);
    }
}
