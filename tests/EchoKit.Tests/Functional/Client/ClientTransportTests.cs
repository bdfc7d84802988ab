using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Client;

/// <summary><see cref="EchoExchange"/> over every transport: Unix sockets, TLS, one IP version, a chosen source address.</summary>
[Trait("Kind", "Functional")]
public sealed class ClientTransportTests
{
    private static readonly byte[] Hello = Encoding.ASCII.GetBytes("Hello, world");

    private static Task<ExchangeResult> RunAsync(string endpoint, ExchangeOptions options, byte[]? payload = null) =>
        EchoExchange.RunAsync(EndpointParser.Parse(endpoint), new MemoryStream(payload ?? Hello), null, options, null, TestTimeouts.Token());

    private static async Task<EchoServer> StartAsync(params ListenEndpoint[] endpoints)
    {
        var options = new EchoServerOptions();
        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }
        return await StartAsync(options);
    }

    private static async Task<EchoServer> StartAsync(EchoServerOptions options)
    {
        var server = new EchoServer(options);
        await server.StartAsync(TestTimeouts.Token());
        return server;
    }

    [Fact]
    public async Task ExchangeEchoesOverAUnixSocket()
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-{Guid.NewGuid():N}.sock");
        await using var server = await StartAsync(ListenEndpoint.Unix(path));

        var result = await RunAsync(":7", new ExchangeOptions { Transport = new ClientTransport { UnixSocketPath = path } });

        Assert.True(result.Success, result.Message);
        Assert.Equal(Hello.Length, result.BytesReceived);
        Assert.Equal(path, EchoConnector.Format(result.RemoteEndPoint));
    }

    [Fact]
    public async Task AMissingUnixSocketIsNamedInTheReason()
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-{Guid.NewGuid():N}.sock");

        var result = await RunAsync(":7", new ExchangeOptions { Transport = new ClientTransport { UnixSocketPath = path } });

        Assert.False(result.Success);
        Assert.Equal($"no Unix socket at {path}", result.Message);
    }

    [Fact]
    public async Task ExchangeEchoesOverTlsTrustingTheGivenCa()
    {
        using var certificates = new TestCertificates();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = certificates.Load();
        await using var server = await StartAsync(options);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(certificates.CertificatePath);

        var result = await RunAsync($"localhost:{server.Listeners[0].Port}", new ExchangeOptions
        {
            Tls = new ConnectTlsOptions { TrustedRoots = roots },
            Transport = new ClientTransport { AddressFamily = AddressFamily.InterNetwork },
        });

        Assert.True(result.Success, result.Message);
    }

    [Fact]
    public async Task APlainExchangeWithATlsPortSaysThePeerSpeaksTls()
    {
        using var certificates = new TestCertificates();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = certificates.Load();
        await using var server = await StartAsync(options);

        var result = await RunAsync($"127.0.0.1:{server.Listeners[0].Port}", new ExchangeOptions());

        Assert.False(result.Success);
        Assert.EndsWith("the server speaks TLS on this port (use --tls)", result.Message);
    }

    [Fact]
    public async Task OnlyTheAskedIpVersionIsTried()
    {
        var result = await RunAsync("127.0.0.1:7", new ExchangeOptions { Transport = new ClientTransport { AddressFamily = AddressFamily.InterNetworkV6 } });

        Assert.Equal(ExchangeOutcome.HostNotFound, result.Outcome);
        Assert.Contains("no address of the IP version asked for", result.Message);
    }

    [Fact]
    public async Task TheSourceAddressIsTheOneGiven()
    {
        await using var server = await TestServer.StartAsync();

        var result = await RunAsync($"127.0.0.1:{server.Port}", new ExchangeOptions { Transport = new ClientTransport { LocalEndPoint = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0) } });

        Assert.True(result.Success, result.Message);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), ((IPEndPoint)result.LocalEndPoint!).Address);
    }

    [Fact]
    public async Task EveryAddressTriedIsListedWithItsError()
    {
        using var closed = new ClosedPort();

        var result = await RunAsync($":{closed.Port}", new ExchangeOptions());

        Assert.Equal(ExchangeOutcome.Refused, result.Outcome);
        Assert.NotEmpty(result.Attempts);
        Assert.All(result.Attempts, a => Assert.Equal(SocketError.ConnectionRefused, a.Error));
        Assert.Equal($"127.0.0.1:{closed.Port}: connection refused", result.Attempts[0].ToString());
        Assert.Null(result.RemoteEndPoint);
    }

    [Fact]
    public async Task AMismatchCarriesTheBytesAroundIt()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(7);

        var result = await RunAsync($"127.0.0.1:{server.Port}", new ExchangeOptions());

        Assert.Equal(ExchangeOutcome.Mismatch, result.Outcome);
        Assert.Equal(7, result.MismatchOffset);
        Assert.Equal("Hello, "u8.ToArray(), result.MismatchBefore.ToArray());
        Assert.Equal("world"u8.ToArray(), result.MismatchExpected.ToArray());
        Assert.Equal([(byte)('w' ^ 0xFF), .. "orld"u8.ToArray()], result.MismatchActual.ToArray());
    }

    [Fact]
    public async Task ATlsExchangeWithAPlainEchoPortSaysThePeerDidNotAnswerWithTlsAndKeepsOpenSslsWordsForDetail()
    {
        await using var server = await TestServer.StartAsync();

        var result = await RunAsync($"127.0.0.1:{server.Port}", new ExchangeOptions { Tls = new ConnectTlsOptions { SkipValidation = true } });

        Assert.Equal(ExchangeOutcome.TlsFailed, result.Outcome);
        Assert.Equal("TLS handshake failed: the server did not answer with TLS (is it a plain TCP port?)", result.Message);
        Assert.Contains("SSL", result.Detail); // .NET's and OpenSSL's words, for -v only
    }
}
