using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Faults;

/// <summary>
/// Slowloris on the TLS handshake: a ClientHello one byte per (fake) second is cut at the handshake timeout, counted
/// from the connect. TLS listeners run on the sockets engine only, so this suite runs once.
/// </summary>
[Collection(nameof(FaultsCollection))]
[Trait("Kind", "Functional")]
public sealed class TlsSlowlorisTests
{
    [Fact]
    public async Task TlsHandshakeTrickledOneBytePerSecondIsCutAtTheHandshakeTimeout()
    {
        using var certificates = new TestCertificates();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = certificates.Load();
        var timeout = options.Tls.HandshakeTimeout; // the documented default, 10 s
        var logs = TestServer.Logs();

        // A TLS handshake record announcing a 512-byte ClientHello, then its body a byte at a time.
        byte[] record = [0x16, 0x03, 0x01, 0x02, 0x00, .. new byte[512]];
        var server = await Trickle.RunAsync(options, timeout, logs, record);

        Assert.Equal(Trickle.Clients, server.Rejections.TlsHandshake);
        Assert.All(logs.Named("TlsHandshakeFailed"), e => Assert.Contains("no handshake within 10s", e.Message));
        Assert.Equal(Trickle.Clients, logs.Named("TlsHandshakeFailed").Count());
    }
}
