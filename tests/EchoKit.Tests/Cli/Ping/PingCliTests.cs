using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Ping;

[Trait("Kind", "Cli")]
public sealed class PingCliTests
{
    private const int SigQuit = 3;

    [Fact]
    public async Task PingsTheInProcessServerAndPrintsALinePerProbeAndTheSummary()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{server.Port}", "-c", "3", "-i", "20ms", "-W", "20s");

        Assert.True(code == 0, stderr);
        for (var seq = 1; seq <= 3; seq++)
        {
            Assert.Matches($@"(?m)^seq={seq} from 127\.0\.0\.1:{server.Port} time=\d+\.\d{{3}} ms$", stdout);
        }
        Assert.Matches(@"(?m)^connected 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ in \d+\.\d{3} ms$", stdout);
        Assert.Contains("3 sent, 3 received, 0.0% loss, 0 duplicates, 0 late, 0 mismatches", stdout);
        Assert.Matches(@"rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms", stdout);
        Assert.Matches(@"rtt p50/p90/p99 = [\d.]+/[\d.]+/[\d.]+ ms, jitter [\d.]+ ms", stdout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APingWithNoCountStopsWhenNobodyReadsItsOutputAnyMore(bool jsonStream)
    {
        await using var server = await TestServer.StartAsync();
        string[] args = jsonStream ? ["--json-stream"] : [];

        // No -c: without noticing that head has gone, this would ping until the test's timeout.
        var (code, stdout, stderr) = await EchokitProcess.RunIntoHeadAsync(2, ["ping", $"127.0.0.1:{server.Port}", "-i", "20ms", .. args]);

        Assert.True(code == 141, $"exit {code}: {stderr}");
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData("--unix")]
    [InlineData("-U")]
    [InlineData("")]        // the path alone, as send and connect take it
    [InlineData("unix:")]
    public async Task PingsAUnixSocketServerGivenEitherWay(string how)
    {
        var path = TestServer.UnixPath();
        try
        {
            var options = new EchoKit.Server.EchoServerOptions();
            options.Endpoints.Add(EchoKit.Server.ListenEndpoint.Unix(path));
            await using var server = await TestServer.StartServerAsync(options, TestServer.Logs());
            string[] target = how switch { "" => [path], "unix:" => ["unix:" + path], _ => [how, path] };

            var (code, stdout, stderr) = await EchokitProcess.RunAsync(["ping", .. target, "-c", "2", "-i", "20ms", "-W", "20s"]);

            Assert.True(code == 0, stderr);
            Assert.Contains($"PING {path}: echo over unix", stdout);
            Assert.Contains("2 sent, 2 received, 0.0% loss", stdout);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task TheWarmUpRunsAgainstAServerOfItsOwnSoTheTargetSeesOnlyTheProbes()
    {
        await using var target = MisbehavingTcpServer.Custom((_, _) => Task.CompletedTask);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("ping", "--connect", $"127.0.0.1:{target.Port}", "-c", "3", "-i", "20ms", "-W", "20s");

        Assert.True(code == 0, stderr);
        Assert.Contains("3 sent, 3 received", stdout);
        await TestTimeouts.WaitUntilAsync(() => target.AcceptedConnections >= 3, "the three probes to be accepted");
        Assert.Equal(3, target.AcceptedConnections);
    }

    [Fact]
    public async Task AClosedPortIsRefusedAndExitsOne()
    {
        using var closed = new ClosedPort();

        var (code, stdout, _) = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{closed.Port}", "-c", "2", "-i", "20ms");

        Assert.Equal(1, code);
        Assert.Matches("(?m)^seq=1 refused$", stdout);
        Assert.Matches(@"(?m)^down at seq=1 \(refused\)$", stdout);
        Assert.Matches("(?m)^seq=2 refused$", stdout);
        Assert.Contains("2 sent, 0 received, 100.0% loss", stdout);
    }

    [Fact]
    public async Task AListenerThatNeverAnswersTimesOutEachProbe()
    {
        // Listening but never accepting: the kernel completes the handshake and buffers the probes; no echo ever comes.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        var (code, stdout, _) = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{port}", "-c", "2", "-i", "100ms", "-W", "100ms");

        // Each check shows the whole output when it fails (one CI run in seven saw no "seq=2 timeout" line).
        Assert.True(code == 1, stdout);
        Assert.True(Regex.IsMatch(stdout, "(?m)^seq=1 timeout$"), stdout);
        Assert.True(Regex.IsMatch(stdout, @"(?m)^down at seq=1 \(timeout\)$"), stdout);
        Assert.True(Regex.IsMatch(stdout, "(?m)^seq=2 timeout$"), stdout);
        Assert.True(stdout.Contains("failed: 2 timeout, 0 refused, 0 error", StringComparison.Ordinal), stdout);
    }

    [Fact]
    public async Task JsonPrintsOnlyTheSummaryDocument()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, _) = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{server.Port}", "-c", "2", "-i", "10ms", "-W", "20s", "--json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(
            ["sent", "received", "loss_percent", "duplicates", "late", "stalled", "mismatches", "timeouts", "refused", "errors", "rtt_ms", "jitter_ms", "up_seconds", "down_seconds", "longest_outage_seconds", "target", "mode"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, root.GetProperty("received").GetInt64());
        Assert.Equal("echo", root.GetProperty("mode").GetString());
        Assert.Equal($"127.0.0.1:{server.Port}", root.GetProperty("target").GetString());
        Assert.True(root.GetProperty("rtt_ms").GetProperty("p99").GetDouble() > 0);
    }

    [Fact]
    public async Task JsonStreamPrintsAnObjectPerProbeThenTheEnd()
    {
        using var closed = new ClosedPort();

        var (code, stdout, _) = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{closed.Port}", "--connect", "-c", "2", "-i", "10ms", "--json-stream");

        Assert.Equal(1, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (var i = 0; i < 2; i++)
        {
            using var probe = JsonDocument.Parse(lines[i]);
            Assert.Equal("probe", probe.RootElement.GetProperty("event").GetString());
            var data = probe.RootElement.GetProperty("data");
            Assert.Equal(i + 1, data.GetProperty("seq").GetInt64());
            Assert.Equal("refused", data.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, data.GetProperty("rtt_ms").ValueKind);
        }
        using var end = JsonDocument.Parse(lines[2]);
        Assert.Equal("end", end.RootElement.GetProperty("event").GetString());
        Assert.Equal(100, end.RootElement.GetProperty("data").GetProperty("loss_percent").GetDouble());
        Assert.Equal("connect", end.RootElement.GetProperty("data").GetProperty("mode").GetString());
    }

    [Theory]
    [InlineData("-i", "0")]
    [InlineData("-i", "500us")]
    [InlineData("--connect", "-s", "64")]
    [InlineData("--connect", "--udp")]
    [InlineData("-s", "8")]
    [InlineData("--assert", "p99<5")]
    [InlineData("--insecure")]
    public async Task BadOptionsExitTwoWithOneLine(params string[] options)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["ping", "127.0.0.1:7", "-c", "1", .. options]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("--ca needs --tls", "--ca", "ca.pem")]
    [InlineData("give either --ca or --insecure, not both", "--tls", "--ca", "ca.pem", "--insecure")]
    [InlineData("give either --ca or --insecure, not both", "--tls", "--ca", "ca.pem", "-k")]
    public async Task CaWithoutTlsOrWithInsecureIsAUsageErrorAsInSend(string message, params string[] options)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["ping", "127.0.0.1:7", "-c", "1", .. options]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit ping: {message} (see 'echokit ping --help')", stderr.Trim());
    }

    [Fact]
    public async Task AnUnusableCaFileFailsTheJobInOurWords()
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("ping", "127.0.0.1:7", "-c", "1", "--tls", "--ca", "/nonexistent/ca.pem");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("echokit ping: CA file /nonexistent/ca.pem: no such file", stderr.Trim());
    }

    [Fact]
    public async Task TlsPingTrustsTheCaGivenAndRefusesTheSameServerWithoutIt()
    {
        using var certificates = new EchoKit.Tests.Production.TestCertificates();
        var options = new EchoKit.Server.EchoServerOptions();
        options.Endpoints.Add(EchoKit.Server.ListenEndpoint.Tls("127.0.0.1:0"));
        options.Tls.Certificate = EchoKit.Server.TlsOptions.LoadPem(certificates.CertificatePath, certificates.KeyPath);
        await using var server = await TestServer.StartServerAsync(options);
        var target = $"127.0.0.1:{server.Listeners[0].Port}";

        var trusted = await EchokitProcess.RunAsync("ping", target, "--tls", "--ca", certificates.CertificatePath, "--server-name", "localhost", "-c", "2", "-i", "20ms", "-W", "20s");
        Assert.True(trusted.ExitCode == 0, trusted.Stderr);
        Assert.Contains("2 sent, 2 received, 0.0% loss", trusted.Stdout);

        // The same server without --ca: its self-signed certificate is not trusted, so every probe fails.
        var untrusted = await EchokitProcess.RunAsync("ping", target, "--tls", "--server-name", "localhost", "-c", "1", "-W", "20s");
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("1 sent, 0 received, 100.0% loss", untrusted.Stdout);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveExitsTwo()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("ping", "no-such-host.invalid:7", "-c", "1");

        Assert.Equal(2, code);
        Assert.StartsWith("echokit ping: cannot resolve no-such-host.invalid", stderr);
    }

    [Fact]
    public async Task ABreachedAssertionExitsThreeAndAHeldOneZero()
    {
        using var closed = new ClosedPort();
        await using var server = await TestServer.StartAsync();

        var breached = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{closed.Port}", "-c", "1", "-q", "--assert", "loss<1%");
        var held = await EchokitProcess.RunAsync("ping", $"127.0.0.1:{server.Port}", "-c", "2", "-i", "10ms", "-W", "20s", "-q", "--assert", "loss=0%", "--assert", "p99<10s");

        Assert.Equal(3, breached.ExitCode);
        Assert.Contains("assert loss<1%: FAIL (loss = 100%)", breached.Stdout);
        Assert.Contains("1 of 1 assertion(s) failed", breached.Stderr);
        Assert.Equal(0, held.ExitCode);
        Assert.Contains("assert p99<10s: pass", held.Stdout);
        Assert.DoesNotContain("seq=", held.Stdout); // -q: the summary only
        Assert.Contains("2 sent, 2 received", held.Stdout);
    }

    [Fact]
    public async Task SigquitPrintsAnInterimSummaryWithoutStopping()
    {
        await using var server = await TestServer.StartAsync();
        await using var ping = EchokitProcess.Start("ping", $"127.0.0.1:{server.Port}", "-i", "20ms", "-W", "20s");

        await ping.WaitForLineAsync(SeqLine(2));
        ping.Signal(SigQuit);
        await ping.WaitForStderrAsync("statistics so far");
        await ping.WaitForLineAsync(SeqLine(5)); // still probing
        ping.Interrupt();

        Assert.Equal(0, await ping.WaitForExitAsync());
        Assert.Matches(@"(?m)^\d+ sent, \d+ received, 0\.0% loss", ping.Stdout);
    }

    private static Regex SeqLine(int seq) => new($"^seq={seq} from");
}
