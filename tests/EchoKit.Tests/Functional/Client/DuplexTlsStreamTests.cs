using System.Net.Sockets;
using System.Text;
using EchoKit.Client;
using EchoKit.Client.Internal;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Client;

/// <summary>
/// <see cref="DuplexTlsStream"/>: the TLS stream <c>connect</c> and <c>send</c> read and close at once. Its gate keeps
/// close_notify from being built while the reader decrypts; it must never hold a close back while the reader only
/// waits for the network.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class DuplexTlsStreamTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    /// <summary>A TLS echo server and one client connected to it through <see cref="DuplexTlsStream"/>.</summary>
    private sealed record Connection(EchoServer Server, Socket Socket, DuplexTlsStream Stream, LogCapture Logs) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stream.DisposeAsync();
            Socket.Dispose();
            await Server.DisposeAsync();
        }
    }

    private async Task<Connection> ConnectAsync()
    {
        var logs = TestServer.Logs();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = TlsOptions.LoadPem(_certificates.CertificatePath, _certificates.KeyPath);
        var server = await TestServer.StartServerAsync(options, logs);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(TestClients.Loopback(server.Listeners[0]), TestTimeouts.Token());
        var handshake = TlsHandshake.For(new ConnectTlsOptions { SkipValidation = true }, "localhost");
        return new Connection(server, socket, await handshake.AuthenticateDuplexAsync(socket, TestTimeouts.Token()), logs);
    }

    [Fact]
    public async Task CloseNotifyGoesAtOnceWhileAReadWaitsAndThatReadSeesThePeersClose()
    {
        await using var connection = await ConnectAsync();
        var (stream, socket) = (connection.Stream, connection.Socket);

        var buffer = new byte[64];
        var read = stream.ReadAsync(buffer, TestTimeouts.Token()).AsTask();
        Assert.False(read.IsCompleted); // nothing was sent: it waits for the network

        await stream.ShutdownAsync().WaitAsync(TestTimeouts.Token());
        socket.Shutdown(SocketShutdown.Send);

        // The server reads our close_notify, answers with its own and a FIN: the read that waited all along ends.
        Assert.Equal(0, await read.WaitAsync(TestTimeouts.Token()));
        var closed = await connection.Logs.WaitForAsync("ConnectionClosed");
        Assert.Equal("closed by peer", closed.Field("Reason"));
    }

    [Fact]
    public async Task EchoesReachAReaderThatRunsBesideTheWriterAndTheClose()
    {
        await using var connection = await ConnectAsync();
        var (stream, socket) = (connection.Stream, connection.Socket);

        var sent = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i}\n")));
        var reader = Task.Run(async () =>
        {
            var received = new MemoryStream();
            var buffer = new byte[1000]; // smaller than a record: some reads are served from decrypted data alone
            int n;
            while ((n = await stream.ReadAsync(buffer, TestTimeouts.Token())) > 0)
            {
                received.Write(buffer, 0, n);
            }
            return received.ToArray();
        });
        for (var offset = 0; offset < sent.Length; offset += 700)
        {
            await stream.WriteAsync(sent.AsMemory(offset, Math.Min(700, sent.Length - offset)), TestTimeouts.Token());
        }
        await stream.ShutdownAsync().WaitAsync(TestTimeouts.Token());
        socket.Shutdown(SocketShutdown.Send);

        Assert.Equal(sent, await reader.WaitAsync(TestTimeouts.Token()));
    }
}
