using System.Diagnostics;
using System.Net.Sockets;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Testing;

[Trait("Kind", "Functional")]
public sealed class MisbehavingTcpServerTests
{
    private static readonly byte[] Message = "0123456789"u8.ToArray();

    private static async Task<Socket> ConnectAsync(MisbehavingTcpServer server)
    {
        var socket = new Socket(server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, TestTimeouts.Token());
        return socket;
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token()) is var read and > 0)
        {
            all.Write(buffer, 0, read);
        }
        return all.ToArray();
    }

    [Fact]
    public async Task CorruptingByteInvertsExactlyThatByte()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(3);
        using var client = await ConnectAsync(server);

        await SocketIo.SendAllAsync(client, Message);
        client.Shutdown(SocketShutdown.Send);
        var echoed = await ReadToEndAsync(client);

        var expected = Message.ToArray();
        expected[3] ^= 0xFF;
        Assert.Equal(expected, echoed);
        Assert.Equal("tcp", server.Uri.Scheme);
        Assert.Equal(1, server.AcceptedConnections);
    }

    [Fact]
    public async Task ClosingAfterEndsTheStreamAfterThatManyBytes()
    {
        await using var server = MisbehavingTcpServer.ClosingAfter(4);
        using var client = await ConnectAsync(server);

        await SocketIo.SendAllAsync(client, Message.AsMemory(0, 4));
        var echoed = await ReadToEndAsync(client);

        Assert.Equal(Message[..4], echoed);
    }

    [Fact]
    public async Task ResettingResetsTheConnectionAfterThatManyBytes()
    {
        await using var server = MisbehavingTcpServer.Resetting(2);
        using var client = await ConnectAsync(server);

        await SocketIo.SendAllAsync(client, Message.AsMemory(0, 2));
        Assert.Equal(Message[..2], await SocketIo.ReceiveExactlyAsync(client, 2));
        var ex = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            while (await client.ReceiveAsync(new byte[16], SocketFlags.None, TestTimeouts.Token()) > 0)
            {
            }
        });

        Assert.Equal(SocketError.ConnectionReset, ex.SocketErrorCode);
    }

    [Fact]
    public async Task HalfClosingAfterEndsTheStreamButKeepsReading()
    {
        await using var server = MisbehavingTcpServer.HalfClosingAfter(3);
        using var client = await ConnectAsync(server);

        await SocketIo.SendAllAsync(client, Message.AsMemory(0, 3));
        Assert.Equal(Message[..3], await ReadToEndAsync(client));

        // The server still reads: a megabyte more goes through without a reset.
        await SocketIo.SendAllAsync(client, new byte[1 << 20]);
        client.Shutdown(SocketShutdown.Send);
    }

    [Fact]
    public async Task NeverReadingLetsWritesBlockOnceTheBuffersFill()
    {
        await using var server = MisbehavingTcpServer.NeverReading();
        using var client = await ConnectAsync(server);
        client.SendBufferSize = 4096;
        client.Blocking = false;

        long written = 0;
        var chunk = new byte[4096];
        var error = SocketError.Success;
        while (error == SocketError.Success && written < 256L << 20)
        {
            written += client.Send(chunk, 0, chunk.Length, SocketFlags.None, out error);
        }

        Assert.Equal(SocketError.WouldBlock, error);
        Assert.True(written < 256L << 20, $"{written} bytes went into a peer that never reads");
    }

    [Fact]
    public async Task SlowAnswersCorrectlyButNoSoonerThanTheDelay()
    {
        var delay = TimeSpan.FromMilliseconds(150);
        var time = new TimerSignalingTimeProvider(delay);
        await using var server = MisbehavingTcpServer.Slow(delay, time);
        using var client = await ConnectAsync(server);

        await SocketIo.SendAllAsync(client, Message);
        // The server holds the echo on a timer of exactly the delay (no timer: it never waits, and this times out).
        await time.WhenStartedAsync(1).WaitAsync(TestTimeouts.Default);
        time.Fake.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, client.Available);
        time.Fake.Advance(TimeSpan.FromMilliseconds(1));
        var echoed = await SocketIo.ReceiveExactlyAsync(client, Message.Length);

        Assert.Equal(Message, echoed);
    }

    [Fact]
    public async Task DisposeClosesConnectionsStillOpen()
    {
        var server = MisbehavingTcpServer.NeverReading();
        using var client = await ConnectAsync(server);
        await TestTimeouts.WaitUntilAsync(() => server.AcceptedConnections == 1, "the accept");

        await server.DisposeAsync();
        await server.DisposeAsync();

        Assert.Empty(await ReadToEndAsync(client));
    }
}
