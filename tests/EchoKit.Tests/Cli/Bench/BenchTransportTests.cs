using System.Diagnostics;
using EchoKit.Bench;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Bench;

/// <summary>Churn, ramp, and every transport a server offers: Unix sockets and TLS.</summary>
[Trait("Kind", "Cli")]
public sealed class BenchTransportTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Theory]
    [InlineData("--unix")]
    [InlineData("-U")]
    [InlineData("")]        // the path alone, as send and connect take it
    [InlineData("unix:")]   // the path with the unix: prefix
    public async Task BenchLoadsAUnixSocketServer(string how)
    {
        var path = TestServer.UnixPath();
        try
        {
            var options = new EchoServerOptions();
            options.Endpoints.Add(ListenEndpoint.Unix(path));
            await using var server = await TestServer.StartServerAsync(options, TestServer.Logs());
            string[] target = how switch { "" => [path], "unix:" => ["unix:" + path], _ => [how, path] };
            var (exit, stdout, stderr) = await EchokitProcess.RunAsync(["bench", .. target, "--connections", "2", "--messages", "500", "--warmup", "0", "--json"]);
            Assert.True(exit == 0, stderr);
            var json = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(500, json.GetProperty("messages").GetInt64());
            Assert.Equal("unix", json.GetProperty("parameters").GetProperty("transport").GetString());
            Assert.Equal($"unix:{path}", json.GetProperty("parameters").GetProperty("endpoint").GetString());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task AMissingUnixSocketFailsAtOnce()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ek-missing-{Guid.NewGuid():N}.sock");
        var (exit, _, stderr) = await EchokitProcess.RunAsync("bench", "--unix", path, "--duration", "60s");
        Assert.Equal(1, exit);
        Assert.Contains($"cannot connect to {path}:", stderr);
    }

    private EchoServerOptions TlsServer()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = TlsOptions.LoadPem(_certificates.CertificatePath, _certificates.KeyPath);
        return options;
    }

    [Fact]
    public async Task BenchLoadsATlsServerTrustingItsCertificate()
    {
        await using var server = await TestServer.StartServerAsync(TlsServer(), TestServer.Logs());
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", $"127.0.0.1:{server.Listeners[0].Port}", "--tls", "--ca", _certificates.CertificatePath,
            "--server-name", "localhost", "--connections", "2", "--pipeline", "2", "--messages", "400", "--warmup", "0", "--json");
        Assert.True(exit == 0, stderr);
        var json = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(400, json.GetProperty("messages").GetInt64());
        Assert.Equal(0, json.GetProperty("mismatches").GetInt64());
        Assert.Equal("tls", json.GetProperty("parameters").GetProperty("transport").GetString());
    }

    [Fact]
    public async Task AnUntrustedTlsCertificateFailsAtOnceSayingWhy()
    {
        await using var server = await TestServer.StartServerAsync(TlsServer(), TestServer.Logs());
        var (exit, _, stderr) = await EchokitProcess.RunAsync("bench", $"127.0.0.1:{server.Listeners[0].Port}", "--tls", "--duration", "60s");
        Assert.Equal(1, exit);
        Assert.Contains("server certificate rejected", stderr);
    }
}
