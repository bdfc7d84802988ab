using System.Net.Sockets;
using System.Threading.Channels;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Ping;

/// <summary>
/// A TCP "echo server" (on the fake-server kit's <see cref="MisbehavingTcpServer.Custom"/>) whose test decides when (and whether) each probe is echoed: every frame that arrives is handed
/// to the test with its connection, so the test can echo it after advancing a fake clock, or never.
/// </summary>
internal sealed class ControlledEchoServer : IAsyncDisposable
{
    private readonly Channel<(Socket Client, byte[] Frame)> _arrived = Channel.CreateUnbounded<(Socket, byte[])>();
    private readonly MisbehavingTcpServer _server;

    public ControlledEchoServer(int frameSize)
    {
        _server = MisbehavingTcpServer.Custom(async (client, stop) =>
        {
            while (true)
            {
                var frame = new byte[frameSize];
                var got = 0;
                while (got < frameSize)
                {
                    var read = await client.ReceiveAsync(frame.AsMemory(got), SocketFlags.None, stop);
                    if (read == 0)
                    {
                        return;
                    }
                    got += read;
                }
                await _arrived.Writer.WriteAsync((client, frame), stop);
            }
        });
    }

    public int Port => _server.Port;

    /// <summary>The next probe to arrive, on whichever connection.</summary>
    public async Task<(Socket Client, byte[] Frame)> NextAsync() => await _arrived.Reader.ReadAsync(TestTimeouts.Token());

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
