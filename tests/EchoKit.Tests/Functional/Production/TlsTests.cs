using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Functional")]
public sealed class TlsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    private EchoServerOptions Tls(TimeSpan? handshakeTimeout = null)
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = TlsOptions.LoadPem(_certificates.CertificatePath, _certificates.KeyPath);
        if (handshakeTimeout is { } timeout)
        {
            options.Tls.HandshakeTimeout = timeout;
        }
        return options;
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task ServerEchoesOverTls(SslProtocols protocol)
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Tls(), logs);
        var listener = server.Listeners[0];
        Assert.Equal(ListenProtocol.Tls, listener.Protocol);
        Assert.StartsWith("tls://127.0.0.1:", listener.Uri);

        await using var tls = await TestClients.ConnectTlsAsync(TestClients.Loopback(listener), protocol);
        Assert.Equal(protocol, tls.SslProtocol);
        Assert.Equal(_certificates.Thumbprint, tls.RemoteCertificate!.GetCertHashString());
        var payload = new byte[100_000];
        Random.Shared.NextBytes(payload);
        Assert.Equal(payload, await TestClients.EchoAsync(tls, payload));

        await tls.ShutdownAsync();
        Assert.Equal(0, await tls.ReadAsync(new byte[1]).AsTask().WaitAsync(TestClients.Timeout));
        var closed = await logs.WaitForAsync("ConnectionClosed");
        Assert.Equal("closed by peer", closed.Field("Reason"));
        Assert.Equal(100_000L, closed.Fields["BytesIn"]);
    }

    [Fact]
    public async Task GarbageHandshakeIsCountedAndNeverDisturbsOtherClients()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Tls(), logs);
        var endPoint = TestClients.Loopback(server.Listeners[0]);
        await using var good = await TestClients.ConnectTlsAsync(endPoint);

        using var garbage = await TestClients.ConnectAsync(endPoint);
        await garbage.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await logs.WaitForAsync("TlsHandshakeFailed");
        // The server may answer a TLS alert before closing; it must not echo.
        var buffer = new byte[256];
        var read = 0;
        try
        {
            while (await garbage.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(TestClients.Timeout) is var n && n > 0)
            {
                Assert.NotEqual((byte)'G', buffer[0]);
                read += n;
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Reset after the alert is a close too.
        }

        Assert.Equal(1, server.Rejections.TlsHandshake);
        Assert.Equal(1, server.ListenerRejections[server.Listeners[0].Uri].TlsHandshake);
        Assert.Equal("after"u8.ToArray(), await TestClients.EchoAsync(good, "after"u8.ToArray()));
        await using var another = await TestClients.ConnectTlsAsync(endPoint);
        Assert.Equal("new"u8.ToArray(), await TestClients.EchoAsync(another, "new"u8.ToArray()));
        // Only the two good clients were ever "online".
        Assert.Equal(2, logs.Named("ConnectionOpened").Count());
    }

    [Fact]
    public async Task SilentClientIsClosedAfterTheHandshakeTimeout()
    {
        var logs = TestServer.Logs();
        var handshakeTimeout = TimeSpan.FromMilliseconds(200);
        var time = new TimerSignalingTimeProvider(handshakeTimeout);
        await using var server = await TestServer.StartServerAsync(Tls(handshakeTimeout), logs, time);
        using var silent = await TestClients.ConnectAsync(server.Listeners[0]);
        await time.WhenStartedAsync(1);
        time.Fake.Advance(handshakeTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(0, server.Rejections.TlsHandshake);
        time.Fake.Advance(TimeSpan.FromTicks(1));
        var failed = await logs.WaitForAsync("TlsHandshakeFailed");
        Assert.Contains("no handshake within 0.2s", failed.Message);
        Assert.True(await TestClients.ClosedWithoutDataAsync(silent));
        Assert.Equal(1, server.Rejections.TlsHandshake);
    }

    [Fact]
    public async Task ClientOfferingOnlyTls11IsRefused()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Tls(), logs);
#pragma warning disable SYSLIB0039 // TLS 1.1 on purpose: the server must refuse it.
        var attempt = TestClients.ConnectTlsAsync(TestClients.Loopback(server.Listeners[0]), SslProtocols.Tls11);
#pragma warning restore SYSLIB0039
        await Assert.ThrowsAnyAsync<Exception>(() => attempt);
        await logs.WaitForAsync("TlsHandshakeFailed");
        Assert.Equal(1, server.Rejections.TlsHandshake);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task ACorruptedRecordAfterTheHandshakeIsTheClientsFaultNotAServerError(SslProtocols protocol)
    {
        // SslStream's IOException for a record that does not decrypt was logged as "unexpected error" (Error) and
        // counted as reason error, as was a TLS 1.2 renegotiation request: a peer could write error lines at will.
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Tls(), logs);
        var endPoint = TestClients.Loopback(server.Listeners[0]);
        var socket = await TestClients.ConnectAsync(endPoint);
        await using var tls = await TestClients.ConnectTlsAsync(endPoint, protocol, socket);
        Assert.Equal("a"u8.ToArray(), await TestClients.EchoAsync(tls, "a"u8.ToArray()));

        // An application-data record of 16 zero bytes, under the TLS layer: it cannot authenticate.
        await socket.SendAsync(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x10 }.Concat(new byte[16]).ToArray());

        var closed = await logs.WaitForAsync("ConnectionClosed");
        Assert.Equal("protocol error", closed.Field("Reason"));
        var error = Assert.Single(logs.Named("TlsProtocolError"));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, error.Level);
        Assert.Empty(logs.Named("ConnectionFault"));
        Assert.DoesNotContain(logs.Events, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task AnIdleCloseOverTlsSendsCloseNotifyBeforeTheFin(SslProtocols protocol)
    {
        // The idle close was a bare FIN: strict clients (OpenSSL 3, Python's ssl) report a truncated stream.
        var logs = TestServer.Logs();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = Tls();
        options.IdleTimeout = TimeSpan.FromSeconds(30);
        await using var server = await TestServer.StartServerAsync(options, logs, time);
        var (raw, tls) = await ConnectCountingAsync(server, protocol);
        await using var _ = tls;
        Assert.Equal("a"u8.ToArray(), await TestClients.EchoAsync(tls, "a"u8.ToArray()));
        var before = raw.BytesRead;

        await TestTimeouts.AdvanceUntilAsync(time, TimeSpan.FromSeconds(31), () => logs.Named("ConnectionClosed").Count > 0, "the idle close");

        Assert.Equal(0, await tls.ReadAsync(new byte[16]).AsTask().WaitAsync(TestClients.Timeout));
        Assert.True(raw.BytesRead > before, "the server sent no TLS record (close_notify) before its FIN");
        Assert.Equal("idle", logs.Named("ConnectionClosed")[0].Field("Reason"));
    }

    [Fact]
    public async Task TheStopOrdersAbortOverTlsSendsCloseNotifyBeforeTheFin()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Tls(), logs);
        var (raw, tls) = await ConnectCountingAsync(server, SslProtocols.Tls12);
        await using var _ = tls;
        Assert.Equal("a"u8.ToArray(), await TestClients.EchoAsync(tls, "a"u8.ToArray()));
        var before = raw.BytesRead;

        // A cancelled token: no grace period, straight to the abort (as after --shutdown-timeout).
        await server.StopAsync(new CancellationToken(canceled: true)).WaitAsync(TestClients.Timeout);

        Assert.Equal(0, await tls.ReadAsync(new byte[16]).AsTask().WaitAsync(TestClients.Timeout));
        Assert.True(raw.BytesRead > before, "the server sent no TLS record (close_notify) before its FIN");
        Assert.Equal((byte)0x15, raw.FirstByteAfter(before)); // TLS 1.2: an alert record
        Assert.Equal("shutdown", logs.Named("ConnectionClosed")[0].Field("Reason"));
    }

    private static async Task<(CountingStream Raw, SslStream Tls)> ConnectCountingAsync(EchoServer server, SslProtocols protocol)
    {
        var socket = await TestClients.ConnectAsync(server.Listeners[0]);
        var raw = new CountingStream(new NetworkStream(socket, ownsSocket: true));
        var tls = new SslStream(raw, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocol,
            RemoteCertificateValidationCallback = (_, _, _, _) => true, // the test's self-signed certificate
        }).WaitAsync(TestClients.Timeout);
        return (raw, tls);
    }

    /// <summary>The raw (encrypted) bytes a TLS client reads, counted and kept, to see records SslStream hides.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private readonly MemoryStream _seen = new();

        public long BytesRead => Volatile.Read(ref _bytesRead);

        private long _bytesRead;

        public byte FirstByteAfter(long offset) => _seen.GetBuffer()[offset];

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            lock (_seen)
            {
                _seen.Write(buffer.Span[..n]);
            }
            Interlocked.Add(ref _bytesRead, n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
