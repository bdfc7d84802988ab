using System.Diagnostics;
using EchoKit.Bench;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Bench;

/// <summary>Churn, ramp and TLS run in-process (<c>BenchRunner</c>); the same transports through the CLI are <c>BenchTransportTests</c>.</summary>
[Trait("Kind", "Functional")]
public sealed class BenchTransportRunnerTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task MessagesPerConnectionReconnectsAndCountsEveryConnect()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Messages = 100,
            MessagesPerConnection = 10,
            Warmup = TimeSpan.Zero,
        }).WaitAsync(TestTimeouts.Default);
        Assert.True(result.Success, $"errors {result.Errors}");
        Assert.Equal(100, result.Messages);
        // Ten connections carried ten messages each; the eleventh may have opened before the run noticed its quota.
        Assert.InRange(result.ConnectTime.TotalCount, 10, 11);
        Assert.Equal(10, result.Parameters.MessagesPerConnection);
    }

    [Fact]
    public async Task ConnectionLifetimeReplacesConnectionsWithoutErrors()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Duration = TimeSpan.FromMilliseconds(1500),
            ConnectionLifetime = TimeSpan.FromMilliseconds(100),
            Warmup = TimeSpan.FromMilliseconds(200),
        }).WaitAsync(TestTimeouts.Default);
        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}, messages {result.Messages}, connects {result.ConnectTime.TotalCount}");
        // A connection lives at least 100 ms, so at most 17 fit in the 1.7 s of warm-up and run (+1 at the edges).
        // The run is long enough for a lifetime to pass even while a loaded test host starves the in-process
        // server's accept loop for a while, so at least one replacement is made.
        Assert.InRange(result.ConnectTime.TotalCount, 2, 18);
    }

    [Fact]
    public async Task RampOpensConnectionsBeforeMeasuringStarts()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var clock = Stopwatch.StartNew();
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Connections = 4,
            Ramp = TimeSpan.FromMilliseconds(400),
            Duration = TimeSpan.FromMilliseconds(300),
            Warmup = TimeSpan.Zero,
            Workers = 2,
        }).WaitAsync(TestTimeouts.Default);
        Assert.True(result.Success, $"errors {result.Errors}");
        Assert.Equal(4, result.ConnectTime.TotalCount);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(700), $"ramp and duration are consecutive, took {clock.Elapsed}");
        Assert.InRange(result.Seconds, 0.29, 0.5); // the ramp is not measured
        Assert.Equal(0.4, result.Parameters.RampSeconds, 3);
    }

    [Fact]
    public async Task TlsChurnReconnectsWithHandshakes()
    {
        await using var server = await TestServer.StartServerAsync(TlsServer(), TestServer.Logs());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Listeners[0].Port}"),
            Tls = new ConnectTlsOptions { SkipValidation = true },
            Messages = 60,
            MessagesPerConnection = 20,
            Warmup = TimeSpan.Zero,
        }).WaitAsync(TestTimeouts.Default);
        Assert.True(result.Success, $"errors {string.Join(", ", result.ErrorsByReason)}");
        Assert.Equal(60, result.Messages);
        Assert.InRange(result.ConnectTime.TotalCount, 3, 4);
    }

    private EchoServerOptions TlsServer()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = TlsOptions.LoadPem(_certificates.CertificatePath, _certificates.KeyPath);
        return options;
    }
}
