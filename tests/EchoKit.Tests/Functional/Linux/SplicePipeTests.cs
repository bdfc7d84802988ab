using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Linux;

/// <summary>
/// The splice pipe the epoll engine echoes bulk reads through (src/Shared/Linux/SplicePipe.cs), driven by hand on a
/// loopback TCP pair: the "server" end is non-blocking and spliced in and out, the client is an ordinary socket.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class SplicePipeTests
{
    [Fact]
    public async Task BytesSplicedBackArriveUnchanged()
    {
        using var pair = await TcpPair.ConnectAsync();
        using var pipe = CreatePipe();
        var payload = SocketIo.RandomBytes(600_000, seed: 21);

        var reading = SocketIo.ReceiveExactlyAsync(pair.Client, payload.Length);
        var sending = SocketIo.SendAllAsync(pair.Client, payload);
        long echoed = 0;
        while (echoed < payload.Length)
        {
            echoed += SpliceOnce(pair, pipe);
        }
        await sending;
        var echo = await reading;

        Assert.Equal(payload, echo);
        Assert.Equal(0, pipe.Count);
    }

    [Fact]
    public async Task WhatTheSocketWillNotTakeIsTakenOutWholeAndInOrder()
    {
        using var pair = await TcpPair.ConnectAsync(smallBuffers: true);
        using var pipe = CreatePipe();
        var payload = SocketIo.RandomBytes(2 * 1024 * 1024, seed: 22);
        var sending = SocketIo.SendAllAsync(pair.Client, payload);

        // The client does not read, so its receive buffer and our send buffer fill, and a splice out stops short.
        long echoed = 0;
        byte[]? held = null;
        while (held is null)
        {
            Assert.True(pair.Server.Poll(TestTimeouts.Default, SelectMode.SelectRead), "the client's bytes never came");
            var n = pipe.Fill(pair.ServerFd, 64 * 1024);
            if (n == -Errno.EAGAIN)
            {
                continue;
            }
            Assert.True(n > 0, $"splice in failed: {n}");
            echoed += pipe.Empty(pair.ServerFd, out var errno);
            if (errno == Errno.EAGAIN)
            {
                held = new byte[pipe.Count];
                Assert.Equal(held.Length, pipe.Take(held));
            }
            else
            {
                Assert.Equal(0, errno);
            }
            Assert.True(echoed < payload.Length, "the socket took everything: its buffers never filled");
        }
        Assert.Equal(0, pipe.Count);

        // What went out, then what was held, then the rest: exactly the payload.
        var reading = SocketIo.ReceiveExactlyAsync(pair.Client, payload.Length);
        SendAll(pair, held);
        echoed += held.Length;
        while (echoed < payload.Length)
        {
            echoed += SpliceOnce(pair, pipe);
        }
        await sending;
        var echo = await reading;
        Assert.Equal(payload, echo);
    }

    [Fact]
    public async Task DiscardedBytesNeverReachTheNextSocket()
    {
        using var pipe = CreatePipe();
        using (var failed = await TcpPair.ConnectAsync())
        {
            await SocketIo.SendAllAsync(failed.Client, SocketIo.RandomBytes(100_000, seed: 23));
            Assert.True(failed.Server.Poll(TestTimeouts.Default, SelectMode.SelectRead));
            Assert.True(pipe.Fill(failed.ServerFd, 64 * 1024) > 0);
            Assert.Throws<InvalidOperationException>(() => pipe.Fill(failed.ServerFd, 64 * 1024));

            pipe.Discard(new byte[4096]);
        }
        Assert.Equal(0, pipe.Count);

        using var next = await TcpPair.ConnectAsync();
        await SocketIo.SendAllAsync(next.Client, "hello"u8.ToArray());
        Assert.Equal(5, SpliceOnce(next, pipe));
        next.Server.Shutdown(SocketShutdown.Send);
        Assert.Equal("hello"u8.ToArray(), await SocketIo.ReceiveToEndAsync(next.Client));
    }

    [Theory]
    [InlineData(1024, false)]
    [InlineData(EchoKit.Server.Internal.EpollEchoConnection.SpliceThreshold - 1, false)]
    [InlineData(EchoKit.Server.Internal.EpollEchoConnection.SpliceThreshold, true)]
    [InlineData(64 * 1024, true)]
    public void OnlyALoopWhoseReadsCanBeLargeSplices(int bufferSize, bool splices)
    {
        // Below the threshold no read is ever large, and splicing that little at a time costs more than copying it.
        using var loop = new EchoKit.Server.Internal.EpollIoLoop(new EventLoop("test-loop"), bufferSize);

        Assert.Equal(splices, loop.Pipe is { IsOpen: true });
    }

    private static SplicePipe CreatePipe() =>
        SplicePipe.TryCreate(256 * 1024) ?? throw new InvalidOperationException("no pipe could be made");

    /// <summary>Waits for bytes, splices them in and all the way out (waiting for room as needed); the count echoed.</summary>
    private static int SpliceOnce(TcpPair pair, SplicePipe pipe)
    {
        Assert.True(pair.Server.Poll(TestTimeouts.Default, SelectMode.SelectRead), "the client's bytes never came");
        var n = pipe.Fill(pair.ServerFd, 64 * 1024);
        if (n == -Errno.EAGAIN)
        {
            return 0;
        }
        Assert.True(n > 0, $"splice in failed: {n}");
        var echoed = 0;
        while (true)
        {
            echoed += pipe.Empty(pair.ServerFd, out var errno);
            if (errno == 0)
            {
                return echoed;
            }
            Assert.Equal(Errno.EAGAIN, errno);
            Assert.True(pair.Server.Poll(TestTimeouts.Default, SelectMode.SelectWrite), "the client never made room");
        }
    }

    private static void SendAll(TcpPair pair, byte[] data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            Assert.True(pair.Server.Poll(TestTimeouts.Default, SelectMode.SelectWrite), "the client never made room");
            var n = Libc.SendNoSignal(pair.ServerFd, data.AsSpan(sent));
            if (n != -Errno.EAGAIN)
            {
                Assert.True(n > 0, $"send failed: {n}");
                sent += (int)n;
            }
        }
    }

    /// <summary>A connected loopback pair: an ordinary client, and a non-blocking server end used by descriptor.</summary>
    private sealed class TcpPair : IDisposable
    {
        private TcpPair(Socket client, Socket server)
        {
            Client = client;
            Server = server;
            ServerFd = (int)server.Handle;
        }

        public Socket Client { get; }

        public Socket Server { get; }

        public int ServerFd { get; }

        public static async Task<TcpPair> ConnectAsync(bool smallBuffers = false)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (smallBuffers)
            {
                client.ReceiveBufferSize = 8 * 1024;
            }
            await client.ConnectAsync(listener.LocalEndPoint!);
            var server = await listener.AcceptAsync();
            if (smallBuffers)
            {
                server.SendBufferSize = 8 * 1024;
            }
            server.Blocking = false;
            return new TcpPair(client, server);
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
