using EchoKit.Endpoints;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Cli")]
public sealed class ProbeCliTests
{
    [Theory]
    [InlineData("nat")]
    [InlineData("mtu")]
    public async Task AHostThatDoesNotResolveIsOneLineNamingIt(string probe)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("probe", probe, "no-such-host.invalid:7");

        Assert.Equal(1, code);
        Assert.Equal($"echokit probe {probe}: cannot resolve no-such-host.invalid: host not found", stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task ProbeAgainstAClosedPortExitsOneWithOneLine()
    {
        using var closed = new ClosedPort();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("probe", "nat", $"127.0.0.1:{closed.Port}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit probe nat: cannot connect to 127.0.0.1:{closed.Port}: connection refused", stderr.TrimEnd());
    }

    [Theory]
    [InlineData("tcp://")]
    [InlineData("udp://")]
    [InlineData("reflect+tcp://")]
    [InlineData("reflect+udp://")]
    public async Task ProbeTakesTheEndpointFormsServePrints(string scheme)
    {
        using var closed = new ClosedPort();

        var (code, _, stderr) = await EchokitProcess.RunAsync("probe", "nat", $"{scheme}127.0.0.1:{closed.Port}");

        Assert.Equal($"echokit probe nat: cannot connect to 127.0.0.1:{closed.Port}: connection refused", stderr.TrimEnd());
        Assert.Equal(1, code);
    }

    [Fact]
    public async Task ProbeRefusesASchemeItCannotUseNamingTheFormsItTakes()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("probe", "nat", "tls://127.0.0.1:7");

        Assert.Equal(2, code);
        Assert.Contains("unknown scheme 'tls://' (give HOST:PORT, or tcp://, udp://, reflect+tcp:// or reflect+udp:// as serve prints them)", stderr);
    }

    [Fact]
    public async Task ProbeAgainstAnEchoPortSaysThereIsNoReflectService()
    {
        await using var echo = await TestServer.StartAsync();

        var (code, _, stderr) = await EchokitProcess.RunAsync("probe", "lb", $"127.0.0.1:{echo.Port}", "-n", "2");

        Assert.Equal(1, code);
        Assert.Contains("no reflect service at 127.0.0.1:", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("idle", "127.0.0.1:7", "--max", "soon")]
    [InlineData("lb", "127.0.0.1:7", "-n", "0")]
    [InlineData("mtu")]
    [InlineData("nat", "127.0.0.1:7", "--dscp", "64")]
    public async Task ProbeUsageErrorsExitTwo(params string[] args)
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync(["probe", .. args]);

        Assert.Equal(2, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData(new string[0], "missing command (commands: nat, idle, mtu, lb)")]
    [InlineData(new[] { "nta", "127.0.0.1:7" }, "unknown command 'nta' (commands: nat, idle, mtu, lb)")]
    public async Task ProbeWithoutAKnownCommandNamesTheCommandsThereAre(string[] args, string expected)
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync(["probe", .. args]);

        Assert.Equal(2, code);
        Assert.Equal($"echokit probe: {expected} (see 'echokit probe --help')\n", stderr);
    }

    [Fact]
    public async Task ProbeNatOverLoopbackSeesNoNatAndExitsZero()
    {
        await using var server = await TestServer.StartAsync(options =>
        {
            options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Reflect.InstanceId = "loop";
        });
        var port = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp", StringComparison.Ordinal)).Port;

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("probe", "nat", $"127.0.0.1:{port}", "--json", "--timeout", "1s");

        Assert.True(code == 0, stderr);
        var json = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.False(json.GetProperty("nat").GetBoolean());
        Assert.Equal(json.GetProperty("local").GetString(), json.GetProperty("seen").GetString());
        Assert.Equal("loop", json.GetProperty("instance").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("hops").ValueKind); // no UDP reflect listener
    }

    [Fact]
    public async Task ProbeIdleStopsWhenNobodyReadsItsProgressAnyMore()
    {
        await using var server = await TestServer.StartAsync(options => options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0")));
        var port = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp", StringComparison.Ordinal)).Port;

        // Up to an hour of idle periods: without noticing that head has gone, it would outlast the test's timeout.
        var (code, stdout, stderr) = await EchokitProcess.RunIntoHeadAsync(1, ["probe", "idle", $"127.0.0.1:{port}", "--no-udp", "--max", "1h"]);

        Assert.True(code == 141, $"exit {code}: {stderr}");
        Assert.Matches(@"^tcp-\w+: idle 1 s survived\n$", stdout);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData(EchokitProcess.SigInt, 130)]
    [InlineData(EchokitProcess.SigTerm, 143)]
    public async Task AnInterruptedProbeSaysSoAndExitsWithTheSignalsCode(int signal, int expected)
    {
        await using var server = await TestServer.StartAsync(options => options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0")));
        var port = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp", StringComparison.Ordinal)).Port;
        await using var probe = EchokitProcess.Start("probe", "idle", $"127.0.0.1:{port}", "--no-udp", "--max", "1h");

        await probe.WaitForLineAsync(new System.Text.RegularExpressions.Regex(@"^tcp-\w+: idle 1 s survived"));
        probe.Signal(signal);

        Assert.Equal(expected, await probe.WaitForExitAsync());
        Assert.Equal("echokit probe idle: interrupted\n", probe.Stderr);
    }
}
