using System.Diagnostics;
using System.Text.Json;
using EchoKit.Bench;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Bench;

/// <summary>The bench command as CI runs it: assertions and their exit codes, fail-fast connects, interval lines, the JSON stream, merge checks.</summary>
[Trait("Kind", "Cli")]
public sealed class BenchCliTests
{
    [Fact]
    public async Task ABreachedAssertionExitsThreeAndEachAssertionPrintsItsVerdict()
    {
        await using var server = FakeServers.Delaying(TimeSpan.FromMilliseconds(5));
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", $"127.0.0.1:{server.Port}", "--messages", "20", "--warmup", "0",
            "--assert", "p50<1ms", "--assert", "errors=0", "--assert", "mismatches=0");
        Assert.True(exit == 3, stderr);
        Assert.Matches(@"(?m)^assert p50<1ms: FAIL \(p50 = \d+(\.\d+)?ms\)$", stdout);
        Assert.Contains("assert errors=0: pass (errors = 0)", stdout);
        Assert.Contains("assert mismatches=0: pass (mismatches = 0)", stdout);
        Assert.Contains("1 of 3 assertion(s) failed", stderr);
    }

    [Fact]
    public async Task AssertionsThatHoldExitZeroAndGoToStderrWithJson()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", TestServer.Address(server), "--messages", "200", "--warmup", "0",
            "--json", "--assert", "p99<10s", "--assert", "rate>=1", "--assert", "connects>=1");
        Assert.True(exit == 0, stderr);
        JsonDocument.Parse(stdout); // stdout stays one JSON document
        Assert.Contains("assert p99<10s: pass", stderr);
        Assert.Contains("assert connects>=1: pass (connects = 1)", stderr);
    }

    [Theory]
    [InlineData("p99<<5ms", "invalid --assert 'p99<<5ms'")]
    [InlineData("p98<5ms", "unknown metric 'p98' (known: p50, p90, p99")]
    [InlineData("loss<1%", "loss applies to --udp only")]
    public async Task AMalformedAssertionExitsTwoAndNamesIt(string expression, string message)
    {
        var (exit, _, stderr) = await EchokitProcess.RunAsync("bench", "127.0.0.1:7", "--assert", expression);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task AHostThatDoesNotResolveIsOneLineNamingIt()
    {
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", "no-such-host.invalid:7", "--duration", "60s");
        Assert.Equal(1, exit);
        Assert.Equal("echokit bench: cannot resolve no-such-host.invalid: host not found", stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task ARefusedConnectFailsAtOnceWithTheReason()
    {
        using var closed = new ClosedPort();
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", $"127.0.0.1:{closed.Port}", "--duration", "60s", "--json");
        Assert.Equal(1, exit);
        Assert.Equal($"echokit bench: cannot connect to 127.0.0.1:{closed.Port}: refused", stderr.Trim());
        Assert.Equal("", stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "a 60 s run must not be waited out");
    }

    [Fact]
    public async Task MoreConnectionsThanTheDescriptorLimitAllowsFailAtOnceNamingTheLimit()
    {
        // Before the check, the workers filled the descriptor table, retried their connects with EMFILE, and the
        // runtime could not start the thread that ends the run: a 2 s run hung until killed.
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var (exit, stdout, stderr) = await EchokitProcess.RunWrappedAsync(
            ["sh", "-c", "ulimit -n 200 && exec \"$@\"", "sh"],
            ["bench", TestServer.Address(server), "--connections", "300", "--duration", "2s"]);
        Assert.Equal(1, exit);
        Assert.Matches(@"^echokit bench: cannot connect to 127\.0\.0\.1:\d+: 300 connections need about \d+ open files, but this process may open 200 \(ulimit -n\): raise the limit or use at most \d+ connections$", stderr.Trim());
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task AConnectThatHangsFailsAfterTheConnectTimeoutAsTimedOut()
    {
        using var backlog = new FullBacklog();
        var (exit, _, stderr) = await EchokitProcess.RunAsync("bench", $"127.0.0.1:{backlog.Port}", "--duration", "60s", "--connect-timeout", "300ms");
        Assert.Equal(1, exit);
        Assert.Contains($"cannot connect to 127.0.0.1:{backlog.Port}: timed out", stderr);
    }

    /// <summary>
    /// Timed runs load a server in its own process: an in-process one shares the test host's thread pool with every
    /// test running beside it, and on a busy machine whole intervals passed without an echo. The 2 s warm-up covers the
    /// generator's own start (a Debug build's first JIT took over a second on a machine with load average 50).
    /// </summary>
    private static async Task<(EchokitProcess Server, string Address)> StartServerProcessAsync()
    {
        var server = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0");
        var port = await server.WaitForListeningPortAsync();
        return (server, $"127.0.0.1:{port}");
    }

    [Fact]
    public async Task IntervalPrintsOneLinePerInterval()
    {
        var (server, address) = await StartServerProcessAsync();
        await using var running = server;
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", address, "--duration", "1s", "--warmup", "2s", "--interval", "250ms");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n').Where(l => l.StartsWith('[')).ToArray();
        Assert.InRange(lines.Length, 4, 5); // four full intervals, and possibly the instant the run ended
        // An interval without a message (a starved in-process server on a busy machine) shows '-' percentiles.
        Assert.All(lines, l => Assert.Matches(@"^\[ +\d+\.\d\d- +\d+\.\d\d s\] +[\d,]+ msg/s +\d+\.\d\d MiB/s  p50 +(\d+|-)  p99 +(\d+|-)  max +(\d+|-) us  errors 0$", l));
        Assert.StartsWith("[   0.00-   0.25 s]", lines[0]);
    }

    [Fact]
    public async Task JsonStreamIsStartIntervalsAndAnEndHoldingTheJsonDocument()
    {
        var (server, address) = await StartServerProcessAsync();
        await using var running = server;
        var (exit, stdout, stderr) = await EchokitProcess.RunAsync("bench", address, "--duration", "600ms", "--warmup", "2s",
            "--interval", "200ms", "--json-stream", "--connections", "2");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal("start", events[0].GetProperty("event").GetString());
        Assert.Equal(2, events[0].GetProperty("data").GetProperty("connections").GetInt32());
        Assert.Equal("end", events[^1].GetProperty("event").GetString());
        var intervals = events[1..^1];
        Assert.InRange(intervals.Length, 3, 4);
        Assert.All(intervals, e => Assert.Equal("interval", e.GetProperty("event").GetString()));
        Assert.Equal(Enumerable.Range(0, intervals.Length), intervals.Select(e => e.GetProperty("data").GetProperty("index").GetInt32()));

        // The end's data is exactly the --json document: read back and written again, it is the same text.
        var data = events[^1].GetProperty("data").GetRawText();
        Assert.Equal(data, BenchJson.Serialize(BenchJson.Deserialize(data)));
        Assert.Equal(lines[^1], BenchJson.EndEvent(BenchJson.Deserialize(data)));
        Assert.Equal(intervals.Sum(e => e.GetProperty("data").GetProperty("messages").GetInt64()), events[^1].GetProperty("data").GetProperty("messages").GetInt64());
    }

    [Theory]
    [InlineData("--interval")]
    [InlineData("--json-stream")]
    public async Task ALongRunStopsWhenNobodyReadsItsProgressAnyMore(string progress)
    {
        await using var server = await TestServer.StartAsync();
        string[] args = progress == "--interval" ? ["--interval", "100ms"] : ["--json-stream", "--interval", "100ms"];

        // A one-hour run: without noticing that head has gone, it would outlast the test's timeout.
        var (code, stdout, stderr) = await EchokitProcess.RunIntoHeadAsync(2,
            ["bench", $"127.0.0.1:{server.Port}", "--duration", "1h", "--warmup", "0", .. args]);

        Assert.True(code == 141, $"exit {code}: {stderr}");
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task MergeOfAFileThatCannotBeReadSaysWhyInOneLineAndExitsOne()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"echokit-no-such-{Guid.NewGuid():N}.json");

        var absent = await EchokitProcess.RunAsync("bench", "merge", missing);
        var directory = await EchokitProcess.RunAsync("bench", "merge", Path.GetTempPath().TrimEnd('/'));

        Assert.Equal(1, absent.ExitCode);
        Assert.Equal($"echokit bench merge: cannot read {missing}: no such file\n", absent.Stderr);
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal($"echokit bench merge: cannot read {Path.GetTempPath().TrimEnd('/')}: is a directory, not a file\n", directory.Stderr);
    }

    [Theory]
    [InlineData("{ this is not json", ":1: not an echokit bench result (JSON it cannot read at byte 3)")]
    [InlineData("a log line\n{\"parameters\": 5}", ":2: not an echokit bench result (JSON it cannot read at byte 17)")]
    [InlineData("{}", ":1: not an echokit bench result: parameters or histogram missing")]
    [InlineData("this is not json", "")]
    public async Task MergeOfAFileThatIsNotAResultSaysSoInOneLineAndExitsOne(string content, string reason)
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-not-a-result-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, content);
        try
        {
            var (code, stdout, stderr) = await EchokitProcess.RunAsync("bench", "merge", path);

            Assert.Equal(1, code);
            Assert.Equal(reason == "" ? "echokit bench merge: no bench result in the files given (a result is the one line 'echokit bench --json' writes)\n" : $"echokit bench merge: {path}{reason}\n", stderr);
            Assert.Equal("", stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task MergeRefusesRunsOfDifferentSizesUnlessForced()
    {
        var dir = Directory.CreateTempSubdirectory("echokit-bench-merge-");
        try
        {
            var a = Path.Combine(dir.FullName, "a.json");
            var b = Path.Combine(dir.FullName, "b.json");
            await File.WriteAllTextAsync(a, BenchJson.Serialize(BenchResultModelTests.Result([100], connections: 2)));
            await File.WriteAllTextAsync(b, BenchJson.Serialize(BenchResultModelTests.Result([100], connections: 3, size: 64)));

            var refused = await EchokitProcess.RunAsync("bench", "merge", a, b);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("the runs differ in size (32 vs 64)", refused.Stderr);

            var forced = await EchokitProcess.RunAsync("bench", "merge", a, b, "--force", "--json");
            Assert.True(forced.ExitCode == 0, forced.Stderr);
            var json = JsonDocument.Parse(forced.Stdout).RootElement;
            Assert.Equal(5, json.GetProperty("total_connections").GetInt32());
            Assert.Equal(2, json.GetProperty("run_parameters").GetArrayLength());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("--json", "--json-stream")]
    [InlineData("--json", "--interval", "1s")]
    [InlineData("--ca", "x.pem")]
    [InlineData("--tls", "--ca", "x.pem", "--insecure")]
    [InlineData("--udp", "--ramp", "1s")]
    [InlineData("--connect-rate", "--messages-per-connection", "5")]
    [InlineData("--interval", "0")]
    public async Task ConflictingOptionsExitTwo(params string[] options)
    {
        var (exit, _, stderr) = await EchokitProcess.RunAsync(["bench", "127.0.0.1:7", .. options]);
        Assert.Equal(2, exit);
        Assert.StartsWith("echokit bench: ", stderr);
    }

    [Fact]
    public async Task MergingAnInterruptedRunExitsByTheResultNotAsIfThisProcessWasSignalled()
    {
        var dir = Directory.CreateTempSubdirectory("echokit-bench-merge-");
        try
        {
            var a = Path.Combine(dir.FullName, "a.json");
            var b = Path.Combine(dir.FullName, "b.json");
            await File.WriteAllTextAsync(a, BenchJson.Serialize(BenchResultModelTests.Result([100])));
            // A run stopped by Ctrl+C elsewhere (e.g. one pod of a Job), as its --json says.
            var interrupted = System.Text.Json.Nodes.JsonNode.Parse(BenchJson.Serialize(BenchResultModelTests.Result([100])))!;
            interrupted["interrupted"] = true;
            await File.WriteAllTextAsync(b, interrupted.ToJsonString());
            Assert.True(BenchJson.Deserialize(await File.ReadAllTextAsync(b)).Interrupted);

            var merged = await EchokitProcess.RunAsync("bench", "merge", a, b, "--json");

            Assert.True(merged.ExitCode == 0, merged.Stderr);
            Assert.True(JsonDocument.Parse(merged.Stdout).RootElement.GetProperty("interrupted").GetBoolean());
            Assert.DoesNotContain("interrupted", merged.Stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(EchokitProcess.SigTerm, 143)]
    [InlineData(EchokitProcess.SigInt, 130)]
    public async Task ASignalledRunExitsWithTheShellsCodeForTheSignal(int signal, int expected)
    {
        var (server, address) = await StartServerProcessAsync();
        await using var running = server;
        // A light open-loop load, far longer than the test: only the signal can end it.
        await using var bench = EchokitProcess.Start("bench", address, "-t", "10m", "--warmup", "0", "--rate", "200", "--json-stream");
        await bench.WaitForStdoutAsync("\"event\":\"start\"");

        bench.Signal(signal);

        Assert.Equal(expected, await bench.WaitForExitAsync());
        Assert.Contains("echokit: interrupted", bench.Stderr);
        // What was measured so far still comes out: the stream ends with its end event.
        Assert.Contains("\"event\":\"end\"", bench.Stdout);
    }

    [Fact]
    public async Task UnixPathAndEndpointExcludeEachOther()
    {
        var both = await EchokitProcess.RunAsync("bench", "127.0.0.1:7", "--unix", "/tmp/x.sock");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("give either ENDPOINT or --unix PATH, not both", both.Stderr);
        var neither = await EchokitProcess.RunAsync("bench");
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("give the ENDPOINT, or --unix PATH", neither.Stderr);
    }
}
