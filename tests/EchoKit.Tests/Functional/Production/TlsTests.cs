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
}
