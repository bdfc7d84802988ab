using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Linux;

/// <summary>The shared Linux layer (src/Shared/Linux): the errno table, sockaddr conversion and the event loop.</summary>
[Trait("Kind", "Functional")]
public sealed class LinuxLayerTests
{
    [Theory]
    [InlineData(Errno.ECONNRESET, SocketError.ConnectionReset)]
    [InlineData(Errno.EPIPE, SocketError.Shutdown)]
    [InlineData(Errno.EAGAIN, SocketError.WouldBlock)]
    [InlineData(Errno.EMFILE, SocketError.TooManyOpenSockets)]
    [InlineData(Errno.ECONNREFUSED, SocketError.ConnectionRefused)]
    [InlineData(Errno.EMSGSIZE, SocketError.MessageSize)]
    [InlineData(9999, SocketError.SocketError)]
    public void ErrnoMapsToTheSocketErrorDotNetReports(int errno, SocketError expected) =>
        Assert.Equal(expected, Errno.ToSocketError(errno));

    [Theory]
    [InlineData("127.0.0.1", 50007)]
    [InlineData("::1", 443)]
    [InlineData("2001:db8::17", 1)]
    public void SocketAddressesRoundTrip(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var buffer = new byte[SocketAddresses.MaxLength];

        var length = SocketAddresses.Write(endPoint, buffer);

        Assert.Equal(endPoint.AddressFamily == AddressFamily.InterNetwork ? 16 : 28, length);
        Assert.Equal(endPoint, SocketAddresses.Read(buffer.AsSpan(0, length)));
        // The same bytes .NET itself would pass to the kernel.
        Assert.Equal(endPoint.Serialize().Buffer.Span[..length].ToArray(), buffer[..length]);
    }

    [Fact]
    public async Task CommandPostedFromAnotherThreadRunsOnTheLoop()
    {
        using var loop = new EventLoop("test-loop");
        loop.Start();
        var handler = new RecordingHandler(loop);

        await Task.Run(() => loop.Post(handler, 7));

        Assert.Equal(7, await handler.Command.Task.WaitAsync(TestTimeouts.Default));
        Assert.True(handler.RanOnLoop);
    }

    private sealed class RecordingHandler(EventLoop loop) : IEventLoopHandler
    {
        public TaskCompletionSource<int> Command { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool RanOnLoop { get; private set; }

        public void OnEvents(uint events) => throw new InvalidOperationException("no descriptor was registered");

        public void OnCommand(int command)
        {
            RanOnLoop = loop.IsOnLoop;
            Command.TrySetResult(command);
        }
    }
}
