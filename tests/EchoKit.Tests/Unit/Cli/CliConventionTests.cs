using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Text;
using EchoKit.Cli;
using EchoKit.Cli.Observability;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Cli;

/// <summary>The conventions every command shares, checked in process on the real command tree (no process started).</summary>
[Trait("Kind", "Unit")]
public sealed class CliConventionTests
{
    private static readonly RootCommand Root = Program.CreateRoot();

    private static string Help(params string[] path)
    {
        Command command = Root;
        foreach (var name in path)
        {
            command = command.Subcommands.Single(c => c.Name == name);
        }
        using var writer = new StringWriter();
        HelpRenderer.Write(command, writer);
        return writer.ToString();
    }

    [Theory]
    [InlineData("1k", 1024)]
    [InlineData("64KiB", 65536)]
    [InlineData("64KB", 65536)]
    [InlineData("1M", 1048576)]
    [InlineData("1.5k", 1536)]
    [InlineData("1GiB", 1073741824)]
    [InlineData("4096", 4096)]
    [InlineData("1_000", 1000)]
    public void ByteCountsTakeBinarySuffixes(string text, long bytes)
    {
        Assert.True(SizeParser.TryParseBytes(text, out var value));
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1x")]
    [InlineData("-1")]
    [InlineData("1.3")]
    [InlineData("k")]
    public void BadByteCountsAreRejected(string text) => Assert.False(SizeParser.TryParseBytes(text, out _));

    [Theory]
    [InlineData("10k", 10_000)]
    [InlineData("2.5k", 2_500)]
    [InlineData("1M", 1_000_000)]
    [InlineData("10k/s", 10_000)]
    [InlineData("500", 500)]
    public void RatesTakeDecimalSuffixes(string text, double rate)
    {
        Assert.True(SizeParser.TryParseCount(text, out var value));
        Assert.Equal(rate, value);
    }

    [Fact]
    public void DurationsAcceptDaysAndFormatBackTheSameWay()
    {
        Assert.True(DurationParser.TryParse("1d", out var day));
        Assert.Equal(TimeSpan.FromDays(1), day);
        Assert.Equal("7d", DurationParser.Format(TimeSpan.FromDays(7)));
        Assert.Equal("90s", DurationParser.Format(TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public void ARejectedDurationListsTheAcceptedForms()
    {
        var parse = Root.Parse(["serve", "--idle-timeout", "soon"]);
        var message = Assert.Single(parse.Errors).Message;
        Assert.Contains("invalid duration 'soon' for --idle-timeout", message);
        Assert.Contains("250ms, 10s, 1.5m, 2h, 1d", message);
    }

    [Theory]
    [InlineData(new[] { "send", "127.0.0.1:7", "--timeout" }, "0")]
    [InlineData(new[] { "send", "127.0.0.1:7", "--timeout" }, "0s")]
    [InlineData(new[] { "serve", "--idle-timeout" }, "0ms")]
    [InlineData(new[] { "connect", "127.0.0.1:7", "-i" }, "0")]
    [InlineData(new[] { "ping", "127.0.0.1:7", "--interval" }, "0s")]
    public void AZeroDurationWhereNoneIsTakenSaysItMustBeMoreThanZero(string[] args, string text)
    {
        var parse = Root.Parse([.. args, text]);
        var message = Assert.Single(parse.Errors).Message;
        Assert.EndsWith($"must be more than 0 (got '{text}')", message);
        Assert.DoesNotContain("invalid duration", message);
    }

    [Fact]
    public void DotNetTimeSpanTextInAMessageIsShownAsAUserWritesIt() =>
        Assert.Equal("idle timeout must be from 100ms to 7 days, not 10ms", Program.Humanize("idle timeout must be from 100ms to 7 days, not 00:00:00.0100000"));

    [Fact]
    public void BufferSizeTakesASizeSuffix()
    {
        var parse = Root.Parse(["serve", "--buffer-size", "128k"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(131072, parse.GetValue<int>("--buffer-size"));
    }

    [Theory]
    [InlineData(new[] { "send", "--bogus", "127.0.0.1:7" }, "--bogus")]
    [InlineData(new[] { "send", "127.0.0.1:7", "hello", "--tiemout", "5s" }, "--tiemout")]
    [InlineData(new[] { "bench", "merge", "a.json", "--bogus" }, "--bogus")]
    [InlineData(new[] { "connect", "-x", "127.0.0.1:7" }, "-x")]
    [InlineData(new[] { "serve", "--bogus" }, "--bogus")]
    public void AnUnknownOptionIsNamedAsOneWhicheverSlotItFell(string[] args, string option) =>
        Assert.Equal(option, Program.UnknownOption(Root.Parse(args)));

    [Fact]
    public void DoubleDashEndsTheOptions()
    {
        var parse = Root.Parse(["send", "127.0.0.1:7", "--", "-n", "--x"]);
        Assert.Null(Program.UnknownOption(parse));
        Assert.Empty(parse.Errors);
        Assert.Equal(["-n", "--x"], parse.GetValue<string[]>("MESSAGE")!);
    }

    [Fact]
    public void AnArgumentStartingWithAtIsAValueNotAResponseFile()
    {
        // Linux abstract socket names are written @name (ss, socat); a response file would need a file of that name.
        var parse = Program.Parse(Root, ["serve", "--unix", "@abstract-name", "--tcp", "127.0.0.1:0"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(["@abstract-name"], parse.GetValue<string[]>("--unix")!);
    }

    [Fact]
    public void ANegativeNumberAndALoneDashAreNotOptions() =>
        Assert.Null(Program.UnknownOption(Root.Parse(["send", "127.0.0.1:7", "-", "-5"])));

    [Theory]
    [InlineData("127.0.0.1:0", "port 0 cannot be connected to")]
    [InlineData("127.0.0.1:-5", "port '-5' is not a number from 0 to 65535")]
    public void ClientTargetsRejectBadPorts(string endpoint, string reason)
    {
        foreach (var command in new[] { "send", "connect" })
        {
            var parse = Root.Parse([command, endpoint]);
            Assert.Contains(parse.Errors, e => e.Message.Contains(reason, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:43121", "127.0.0.1", 43121, "tcp")]
    [InlineData("udp://[::1]:7", "::1", 7, "udp")]
    [InlineData("TLS://echo.example.org:7443/", "echo.example.org", 7443, "tls")]
    [InlineData("127.0.0.1:7", "127.0.0.1", 7, null)]
    public void ClientTargetsTakeTheAddressesServePrints(string text, string host, int port, string? scheme)
    {
        Assert.True(ClientTarget.TryParse(text, unix: false, out var target, out var error), error);
        Assert.Equal((host, port, scheme, (string?)null), (target.Endpoint.Host, target.Endpoint.Port, target.Scheme, target.UnixPath));
    }

    [Theory]
    [InlineData("unix:///run/echo.sock", "/run/echo.sock")]
    [InlineData("unix://echo.sock", "echo.sock")]
    [InlineData("unix:/run/echo.sock", "/run/echo.sock")]
    [InlineData("unix:echo.sock", "echo.sock")]
    [InlineData("UNIX:///run/echo.sock", "/run/echo.sock")]
    [InlineData("./echo.sock", "./echo.sock")]
    public void APathOrUnixSchemeIsAUnixSocket(string text, string path)
    {
        Assert.True(ClientTarget.TryParse(text, unix: false, out var target, out var error), error);
        Assert.Equal(path, target.UnixPath);
    }

    [Theory]
    [InlineData("http://127.0.0.1:80", "unknown scheme 'http://'")]
    [InlineData("tcp://127.0.0.1:7/echo", "expected tcp://HOST:PORT, with no path")]
    [InlineData("udp://127.0.0.1:0", "port 0 cannot be connected to")]
    public void AnAddressWithASchemeWeDoNotTakeIsRefusedSayingWhich(string text, string reason)
    {
        foreach (var command in new[] { "send", "connect", "ping", "bench" })
        {
            var parse = Root.Parse([command, text]);
            Assert.Contains(parse.Errors, e => e.Message.Contains(reason, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("udp://127.0.0.1:7", false, false, true, false)]
    [InlineData("tls://127.0.0.1:7", false, false, false, true)]
    [InlineData("tcp://127.0.0.1:7", false, true, false, true)]
    [InlineData("127.0.0.1:7", true, false, true, false)]
    public void UdpAndTlsSchemesStandForTheirFlags(string text, bool udpFlag, bool tlsFlag, bool udp, bool tls)
    {
        Assert.True(ClientTarget.TryParse(text, unix: false, out var target, out _));
        Assert.Equal((udp, tls), ClientTarget.WithFlags(target, udpFlag, tlsFlag));
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:7", true, false, "tcp:// and --udp contradict each other")]
    [InlineData("tls://127.0.0.1:7", true, false, "tls:// is TLS over TCP; it cannot take --udp")]
    [InlineData("udp://127.0.0.1:7", false, true, "udp:// cannot take --tls")]
    public void AFlagTheSchemeContradictsIsAUsageError(string text, bool udpFlag, bool tlsFlag, string message)
    {
        Assert.True(ClientTarget.TryParse(text, unix: false, out var target, out _));
        Assert.StartsWith(message, Assert.Throws<UsageException>(() => ClientTarget.WithFlags(target, udpFlag, tlsFlag)).Message);
    }

    [Fact]
    public void HelpShowsEachDefaultOnceInHumanFormWithoutTypeNames()
    {
        foreach (var path in new[] { new[] { "serve" }, ["send"], ["connect"], ["bench"], ["bench", "merge"] })
        {
            var help = Help(path);
            Assert.DoesNotContain("[default:", help);
            Assert.DoesNotContain("System.", help);
            Assert.DoesNotContain("00:00:", help);
        }
        var send = System.Text.RegularExpressions.Regex.Replace(Help("send"), @"\s+", " ");
        Assert.Contains("Default utf-8.", send);
        Assert.Contains("default 10s. With --udp: the wait for each answer; default 2s.", send);
        Assert.Contains("Default text.", System.Text.RegularExpressions.Regex.Replace(Help("serve"), @"\s+", " "));
    }

    [Theory]
    [InlineData("ping")]
    [InlineData("bench")]
    public void EveryAssertExampleInACommandsHelpIsAcceptedByThatCommand(string command)
    {
        // The examples are read from the help as a user sees it, not from the declaration, so a shared description
        // that shows one command another's metrics is caught.
        var help = System.Text.RegularExpressions.Regex.Replace(Help(command), @"\s+", " ");
        var listed = System.Text.RegularExpressions.Regex.Match(help, @"--assert \S+ Check the result after the run, e\.g\. (?<examples>[^;]+);");
        Assert.True(listed.Success, help);
        var examples = listed.Groups["examples"].Value.Split(", ");
        Assert.True(examples.Length >= 2, listed.Value);
        foreach (var example in examples)
        {
            var parse = Root.Parse([command, "127.0.0.1:7", "--assert", example]);
            Assert.True(parse.Errors.Count == 0, $"{command} --assert '{example}': {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }

    [Theory]
    [InlineData(new[] { "send" }, "Usage: echokit send <ENDPOINT> [MESSAGE...] [options]")]
    [InlineData(new[] { "bench", "merge" }, "Usage: echokit bench merge FILE... [options]")]
    [InlineData(new[] { "connect" }, "Usage: echokit connect <ENDPOINT> [options]")]
    [InlineData(new string[0], "Usage: echokit COMMAND [options]")]
    public void UsageLinesAreRight(string[] path, string usage) => Assert.StartsWith(usage + "\n", Help(path).ReplaceLineEndings("\n"));

    [Theory]
    [InlineData("serve")]
    [InlineData("send")]
    [InlineData("connect")]
    [InlineData("bench")]
    [InlineData("bench merge")]
    [InlineData("ping")]
    [InlineData("probe")]
    [InlineData("probe nat")]
    [InlineData("probe idle")]
    [InlineData("probe mtu")]
    [InlineData("probe lb")]
    public void EachCommandsHelpEndsWithExamplesAndExitCodes(string path)
    {
        var help = Help(path.Split(' ')).ReplaceLineEndings("\n");
        var examples = help.IndexOf("\nExamples:\n", StringComparison.Ordinal);
        var exitCodes = help.IndexOf("\nExit codes:\n", StringComparison.Ordinal);
        Assert.True(examples > 0 && exitCodes > examples, help);
        Assert.Contains("  2    usage", help[exitCodes..]);
    }

    [Fact]
    public void ServeHelpSaysSighupStopsItAsSigtermDoes()
    {
        var help = Help(["serve"]).ReplaceLineEndings("\n");
        var exitCodes = help[help.IndexOf("\nExit codes:\n", StringComparison.Ordinal)..];
        Assert.Contains("0    stopped by SIGINT/SIGTERM/SIGHUP after a clean drain", exitCodes);
        Assert.Contains("129 a second SIGHUP", exitCodes);
        Assert.Contains("On SIGINT/SIGTERM/SIGHUP, how long open connections may go on", help);
    }

    [Fact]
    public void EveryCommandHasItsOwnHelpSections()
    {
        // A command added later without examples or exit codes fails here, not in a user's terminal.
        foreach (var command in Commands(Root))
        {
            var path = HelpRenderer.PathOf(command);
            Assert.True(CommandHelp.Examples(path).Count > 0, $"'{path}' has no examples");
            Assert.True(CommandHelp.ExitCodes(path).Count > 0, $"'{path}' has no exit codes");
        }

        static IEnumerable<Command> Commands(Command parent) =>
            parent.Subcommands.Where(c => !c.Hidden).SelectMany(c => Commands(c).Prepend(c));
    }

    [Theory]
    [InlineData("connect", "-u", "--udp")]
    [InlineData("connect", "-U", "--unix")]
    [InlineData("connect", "-C", "--crlf")]
    [InlineData("connect", "-w", "--wait")]
    [InlineData("connect", "-k", "--insecure")]
    [InlineData("send", "-U", "--unix")]
    [InlineData("send", "-k", "--insecure")]
    [InlineData("send", "-4", "-4")]
    [InlineData("send", "-6", "-6")]
    [InlineData("connect", "-4", "-4")]
    [InlineData("send", "--source", "--source")]
    [InlineData("connect", "--source", "--source")]
    [InlineData("send", "--tls", "--tls")]
    public void ClientShortFlagsAreWhereNetworkToolsPutThem(string command, string alias, string name)
    {
        var options = Root.Subcommands.Single(c => c.Name == command).Options;
        var option = Assert.Single(options, o => o.Name == alias || o.Aliases.Contains(alias));
        Assert.Equal(name, option.Name);
    }

    [Theory]
    [InlineData("-c", "--connections")]
    [InlineData("-t", "--duration")]
    [InlineData("-n", "--messages")]
    [InlineData("-l", "--size")]
    [InlineData("-i", "--interval")]
    [InlineData("-k", "--insecure")]
    public void BenchShortFlagsAreWhereLoadToolsPutThem(string alias, string name)
    {
        var options = Root.Subcommands.Single(c => c.Name == "bench").Options;
        var option = Assert.Single(options, o => o.Name == alias || o.Aliases.Contains(alias));
        Assert.Equal(name, option.Name);
    }

    [Fact]
    public void NoCommandGivesOneFlagToTwoOptions()
    {
        foreach (var command in Root.Subcommands.Concat(Root.Subcommands.SelectMany(c => c.Subcommands)))
        {
            var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToArray();
            Assert.True(names.Length == names.Distinct(StringComparer.Ordinal).Count(),
                $"{command.Name}: {string.Join(", ", names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key))} used twice");
        }
    }

    [Fact]
    public void BenchShortFlagsParseTheirValuesWithSuffixes()
    {
        var parse = Root.Parse(["bench", "127.0.0.1:7", "-c", "8", "-t", "3s", "-l", "1k", "-i", "500ms", "--rate", "10k"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(8, parse.GetValue<int>("--connections"));
        Assert.Equal(TimeSpan.FromSeconds(3), parse.GetValue<TimeSpan>("--duration"));
        Assert.Equal(1024, parse.GetValue<int>("--size"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), parse.GetValue<TimeSpan?>("--interval"));
        Assert.Equal(10_000, parse.GetValue<double?>("--rate"));

        var messages = Root.Parse(["bench", "127.0.0.1:7", "-n", "1M"]);
        Assert.Empty(messages.Errors);
        Assert.Equal(1_000_000, messages.GetValue<long?>("--messages"));
    }

    [Theory]
    [InlineData("64KiB", 65536)]
    [InlineData("64k", 65536)]
    [InlineData("1M", 1048576)]
    [InlineData("32", 32)]
    public void BenchSizeTakesByteSuffixes(string text, int bytes)
    {
        var parse = Root.Parse(["bench", "127.0.0.1:7", "--size", text]);
        Assert.Empty(parse.Errors);
        Assert.Equal(bytes, parse.GetValue<int>("--size"));
    }

    [Theory]
    [InlineData(new[] { "serve", "--max-connections", "10k" }, "--max-connections", 10_000)]
    [InlineData(new[] { "serve", "--backlog", "1k" }, "--backlog", 1000)]
    [InlineData(new[] { "serve", "--udp-rate-limit", "2.5k" }, "--udp-rate-limit", 2500)]
    [InlineData(new[] { "bench", "127.0.0.1:7", "-c", "1k" }, "--connections", 1000)]
    [InlineData(new[] { "probe", "lb", "127.0.0.1:7", "-n", "1k" }, "-n", 1000)]
    [InlineData(new[] { "ping", "127.0.0.1:7", "--size", "1k" }, "--size", 1024)]
    [InlineData(new[] { "serve", "--udp-buffer", "4M" }, "--udp-buffer", 4 << 20)]
    public void CountsTakeDecimalSuffixesAndByteCountsBinaryOnes(string[] args, string option, int expected)
    {
        var parse = Root.Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal(expected, parse.GetValue<int>(option));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("11M")]
    [InlineData("-1")]
    [InlineData("ten")]
    public void ACountOptionRefusesFractionsOutOfRangeValuesAndWords(string text)
    {
        var parse = Root.Parse(["serve", "--max-connections", text]);
        Assert.Contains(parse.Errors, e => e.Message.Contains($"invalid value '{text}' for --max-connections: expected a whole number from 1 to 10000000", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--size", "1x", "invalid size '1x' for --size")]
    [InlineData("--size", "0", "invalid size '0' for --size")]
    [InlineData("--size", "65MiB", "invalid size '65MiB' for --size")]
    [InlineData("--rate", "10q", "invalid value '10q' for --rate")]
    [InlineData("--rate", "0", "invalid value '0' for --rate")]
    public void BenchRejectsBadSizesAndRatesNamingTheOption(string option, string value, string message)
    {
        var parse = Root.Parse(["bench", "127.0.0.1:7", option, value]);
        Assert.Contains(parse.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void PingTakesCaAndInsecureWithTls()
    {
        var ca = Root.Parse(["ping", "127.0.0.1:7", "--tls", "--ca", "x.pem"]);
        Assert.Empty(ca.Errors);
        Assert.Equal("x.pem", ca.GetValue<FileInfo?>("--ca")!.Name);
        var insecure = Root.Parse(["ping", "127.0.0.1:7", "--tls", "-k"]);
        Assert.Empty(insecure.Errors);
        Assert.True(insecure.GetValue<bool>("--insecure"));
    }

    [Theory]
    [InlineData(new[] { "serve", "-q", "-v" }, "give either --quiet or --verbose, not both")]
    [InlineData(new[] { "serve", "--tls", "127.0.0.1:0", "--print-config" }, "--tls needs --tls-cert")]
    [InlineData(new[] { "serve", "--unix", "/tmp/echokit-x.sock", "--proxy-protocol", "tcp" }, "--proxy-protocol tcp: there is no TCP listener")]
    public void ContradictionsAreUsageErrorsAndPrintConfigChecksThemToo(string[] args, string message)
    {
        var parse = Root.Parse(args);
        Assert.Empty(parse.Errors);
        var error = Assert.Throws<UsageException>(() => EchoKit.Cli.Configuration.ConfigOptions.Validate(parse));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("/nonexistent/echokit.json", "config file /nonexistent/echokit.json: no such file")]
    [InlineData("/tmp", "config file /tmp: is a directory, not a file")]
    public void AnUnreadableConfigFileIsReportedInOurWordsAsAFailedJob(string path, string message)
    {
        string[] args = ["serve", "--config", path];
        var error = Assert.Throws<EchoKit.Cli.Configuration.ConfigurationException>(
            () => EchoKit.Cli.Configuration.ConfigLayering.Apply(Root.Parse(args), args, _ => null));
        Assert.Equal(message, error.Message);
        Assert.True(error.IsUnreadableFile);
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7:0")]
    [InlineData("192.0.2.7:40000", "192.0.2.7:40000")]
    [InlineData("[2001:db8::7]:0", "[2001:db8::7]:0")]
    [InlineData("2001:db8::7", "[2001:db8::7]:0")]
    public void SourceTakesAnAddressAndAnOptionalPort(string text, string expected)
    {
        var parse = Root.Parse(["send", "--source", text, "127.0.0.1:7"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(expected, parse.GetValue<System.Net.IPEndPoint?>("--source")!.ToString());
    }

    [Theory]
    [InlineData("1.2.3")]
    [InlineData("10")]
    [InlineData("example.org")]
    public void SourceRefusesWhatIsNotAnAddress(string text) =>
        Assert.Contains(Root.Parse(["send", "--source", text, "127.0.0.1:7"]).Errors, e => e.Message.Contains("invalid source address", StringComparison.Ordinal));

    [Fact]
    public void ErrorsNameTheCommandAsTyped() =>
        Assert.Equal("echokit bench merge", HelpRenderer.DisplayName(Root.Parse(["bench", "merge", "x.json"]).CommandResult.Command));

    [Theory]
    [InlineData("ConnectionClosed", "closed by peer", "closed_by_peer")]
    [InlineData("ConnectionClosed", "idle", "idle")]
    [InlineData("ConnectionRejected", "3 connection(s) open (--max-connections)", "max_connections")]
    [InlineData("ConnectionRejected", "denied by the access list", "denied")]
    public void JsonReasonsUseTheMetricsWords(string eventName, string prose, string label) =>
        Assert.Equal(label, LineLoggerFactory.ReasonLabel(eventName, prose));

    [Fact]
    public void WarningsAndEventsComeOutInOrderOnOneStream()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using (var sink = new OutputSink(stdout, stderr))
        {
            var logger = new LineLoggerFactory(sink, LogFormat.Text, LogLevel.Information).CreateLogger("test");
            logger.LogInformation("first");
            logger.LogWarning("shutdown: closing 1 connection(s) still open");
            logger.LogInformation("stopped");
        }
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("first", lines[0]);
        Assert.EndsWith("warning: shutdown: closing 1 connection(s) still open", lines[1]);
        Assert.EndsWith("stopped", lines[2]);
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public async Task StreamListenersCarryNoDatagramSeriesAndThreadPoolLevelsAreGauges()
    {
        var meterName = $"EchoKit.Test.{Guid.NewGuid():N}";
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter(new Dictionary<string, string> { [meterName] = "t_" });
        meter.CreateObservableCounter("datagrams.answered", () => new[]
        {
            new Measurement<long>(0, new KeyValuePair<string, object?>("listener", "tcp://127.0.0.1:1")),
            new Measurement<long>(4, new KeyValuePair<string, object?>("listener", "udp://127.0.0.1:2")),
        });
        meter.CreateObservableCounter("dotnet.thread_pool.thread.count", () => 3L);
        meter.CreateObservableCounter("dotnet.thread_pool.queue.length", () => 0L);

        using var buffer = new MemoryStream();
        await exporter.WriteAsync(buffer, CancellationToken.None);
        var text = Encoding.UTF8.GetString(buffer.ToArray());

        Assert.Contains("t_datagrams_answered_total{listener=\"udp://127.0.0.1:2\"} 4", text);
        Assert.DoesNotContain("tcp://127.0.0.1:1", text);
        Assert.Contains("# TYPE t_dotnet_thread_pool_thread_count gauge", text);
        Assert.Contains("t_dotnet_thread_pool_thread_count 3", text);
        Assert.Contains("# TYPE t_dotnet_thread_pool_queue_length gauge", text);
        Assert.DoesNotContain("thread_count_total", text);
    }

    [Theory]
    [InlineData("/h:1k")]
    [InlineData("/?:1k")]
    public void AValueShapedLikeAWindowsHelpSwitchIsAValueNotAHelpRequest(string value)
    {
        // Found by SizeOptionsAcceptExactlyTheNumbersInTheirRange: "/h:J#3l," printed help and exited 0.
        var parse = Root.Parse(["serve", "--buffer-size", value]);

        Assert.IsNotType<EchokitHelpAction>(parse.Action);
        Assert.NotEmpty(parse.Errors); // refused as a size, like any other bad size
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("-?")]
    public void HelpAnswersToItsUnixSpellings(string flag) =>
        Assert.IsType<EchokitHelpAction>(Root.Parse(["serve", flag]).Action);
}
