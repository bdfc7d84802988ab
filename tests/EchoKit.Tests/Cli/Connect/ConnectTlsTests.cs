using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary><c>echokit connect --tls</c> against an in-test SslStream echo server with a self-signed certificate.</summary>
[Trait("Kind", "Cli")]
public sealed class ConnectTlsTests : IDisposable
{
    private readonly X509Certificate2 _certificate = CreateSelfSigned();
    private readonly string _pem = Path.Combine(Path.GetTempPath(), $"echokit-connect-ca-{Guid.NewGuid():N}.pem");

    public ConnectTlsTests() => File.WriteAllText(_pem, _certificate.ExportCertificatePem() + "\n");

    [Fact]
    public async Task ConnectTlsRejectsSelfSignedCertificateByDefault()
    {
        await using var server = StartTlsEcho(out _);
        await using var connect = EchokitProcess.Start(["connect", "--tls", server.Endpoint]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Matches(@"^echokit: 127\.0\.0\.1:\d+: server certificate rejected: it is not signed by a trusted CA .*--ca FILE.*--insecure.*\n$", connect.Stderr);
        Assert.Single(connect.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", connect.Stdout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectTlsToAPlainPortSaysSoAndShowsOpenSslsWordsOnlyWithVerbose(bool verbose)
    {
        await using var server = await TestServer.StartAsync();
        await using var connect = EchokitProcess.Start(verbose ? ["connect", "--tls", "-v", $"127.0.0.1:{server.Port}"] : ["connect", "--tls", $"127.0.0.1:{server.Port}"]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.EndsWith($"echokit: 127.0.0.1:{server.Port}: TLS handshake failed: the server did not answer with TLS (is it a plain TCP port?)\n", connect.Stderr);
        Assert.Equal(verbose, connect.Stderr.Contains("OpenSSL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectTlsEchoesWithCaFileAndReportsTlsDetails()
    {
        await using var server = StartTlsEcho(out _);
        await using var connect = EchokitProcess.Start(["connect", "--tls", "--ca", _pem, "-v", server.Endpoint]);

        await connect.WriteAsync("secret one\n");
        await connect.WaitForStdoutAsync("secret one\n");
        await connect.WriteAsync("secret two\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("secret one\nsecret two\n", connect.Stdout);
        Assert.Matches(@"TLS 1\.[23], cipher TLS_\w+, handshake [\d.]+ ms; server certificate CN=localhost", connect.Stderr);
        Assert.DoesNotContain("warning", connect.Stderr);
    }

    [Fact]
    public async Task ConnectTlsChecksTheServerNameAgainstTheCertificate()
    {
        await using var server = StartTlsEcho(out _);
        await using var connect = EchokitProcess.Start(["connect", "--tls", "--ca", _pem, "--server-name", "example.org", server.Endpoint]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Contains("it is not valid for the name 'example.org'", connect.Stderr);
    }

    [Fact]
    public async Task ConnectTlsInsecureWorksAndWarns()
    {
        await using var server = StartTlsEcho(out _);
        await using var connect = EchokitProcess.Start(["connect", "--tls", "--insecure", server.Endpoint]);

        await connect.WriteAsync("hi\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("hi\n", connect.Stdout);
        Assert.Contains("warning:", connect.Stderr);
        Assert.Contains("server certificate NOT verified (ignored: it is not signed by a trusted CA", connect.Stderr);
    }

    [Fact]
    public async Task SendTlsInsecureWorksAndWarnsAsConnectDoes()
    {
        await using var server = StartTlsEcho(out _);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--tls", "--insecure", server.Endpoint, "hi");

        Assert.True(code == 0, stderr);
        Assert.Equal("hi\n", stdout);
        Assert.Equal($"echokit: warning: {server.Endpoint}: server certificate NOT verified (ignored: it is not signed by a trusted CA (self-signed or private CA)); the connection is encrypted but anyone on the path could be the server", stderr.Trim());
    }

    /// <summary>A TLS echo server: echoes each record's bytes until the client's close_notify/FIN, then closes.</summary>
    private ScriptedTcpServer StartTlsEcho(out TaskCompletionSource handshake)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        handshake = done;
        var certificate = _certificate;
        return ScriptedTcpServer.Start(async (socket, token) =>
        {
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, token);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
                return;
            }
            var buffer = new byte[4096];
            int read;
            while ((read = await ssl.ReadAsync(buffer, token)) > 0)
            {
                await ssl.WriteAsync(buffer.AsMemory(0, read), token);
            }
            await ssl.ShutdownAsync();
            socket.Shutdown(SocketShutdown.Both);
        });
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    public void Dispose()
    {
        File.Delete(_pem);
        _certificate.Dispose();
    }
}
