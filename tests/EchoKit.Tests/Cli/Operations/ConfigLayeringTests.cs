using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EchoKit.Cli.Parsing;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Operations;

/// <summary>
/// <c>echokit serve</c> configuration from a JSON file (<c>--config</c>), <c>ECHOKIT_*</c> variables and the
/// command line, in that order of precedence; checked through <c>--print-config</c> and a real start.
/// </summary>
[Trait("Kind", "Cli")]
public sealed class ConfigLayeringTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("echokit-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteConfig(string json, string name = "echokit.json")
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static async Task<JsonElement> PrintConfigAsync(IEnumerable<string> args, Dictionary<string, string>? environment = null)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", .. args, "--print-config"], environment);
        Assert.True(code == 0, $"exit {code}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public async Task CommandLineWinsOverEnvironmentAndEnvironmentOverFile()
    {
        var path = WriteConfig("""
            {"tcp": ["127.0.0.1:7000"], "backlog": 100, "shutdown-timeout": "5s", "quiet": true, "buffer-size": 4096}
            """);
        var config = await PrintConfigAsync(["--config", path, "--backlog", "300"], new()
        {
            ["ECHOKIT_BACKLOG"] = "200",
            ["ECHOKIT_SHUTDOWN_TIMEOUT"] = "7s",
        });

        Assert.Equal(300, config.GetProperty("backlog").GetInt32());                  // command line over env and file
        Assert.Equal("7s", config.GetProperty("shutdown-timeout").GetString());        // env over file
        Assert.Equal(4096, config.GetProperty("buffer-size").GetInt32());              // file over default
        Assert.True(config.GetProperty("quiet").GetBoolean());
        Assert.Equal(["127.0.0.1:7000"], config.GetProperty("tcp").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("text", config.GetProperty("log-format").GetString());            // default
    }

    [Fact]
    public async Task RepeatableOptionTakesCommaSeparatedEnvironmentValueAndReplacesTheFileList()
    {
        var path = WriteConfig("""{"tcp": ["127.0.0.1:7000", "127.0.0.1:7001"]}""");
        var config = await PrintConfigAsync(["--config", path], new() { ["ECHOKIT_TCP"] = "127.0.0.1:8000, [::1]:8001" });

        Assert.Equal(["127.0.0.1:8000", "[::1]:8001"], config.GetProperty("tcp").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task CommandLineListReplacesTheEnvironmentList()
    {
        var config = await PrintConfigAsync(["--tcp", "127.0.0.1:9000"], new() { ["ECHOKIT_TCP"] = "127.0.0.1:8000,127.0.0.1:8001" });

        Assert.Equal(["127.0.0.1:9000"], config.GetProperty("tcp").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task CamelCaseAndSnakeCaseKeysNameTheSameOptions()
    {
        var path = WriteConfig("""{"shutdownTimeout": "250ms", "buffer_size": 2048, "logFormat": "json"}""");
        var config = await PrintConfigAsync(["--config", path]);

        Assert.Equal("250ms", config.GetProperty("shutdown-timeout").GetString());
        Assert.Equal(2048, config.GetProperty("buffer-size").GetInt32());
        Assert.Equal("json", config.GetProperty("log-format").GetString());
    }

    [Fact]
    public async Task FalseInEnvironmentTurnsOffAFlagSetInTheFile()
    {
        var path = WriteConfig("""{"quiet": true, "verbose": true}""");
        var config = await PrintConfigAsync(["--config", path], new() { ["ECHOKIT_QUIET"] = "false", ["ECHOKIT_VERBOSE"] = "0" });

        Assert.False(config.GetProperty("quiet").GetBoolean());
        Assert.False(config.GetProperty("verbose").GetBoolean());
    }

    [Fact]
    public async Task ConfigFileMayBeNamedByEchokitConfigVariable()
    {
        var path = WriteConfig("""{"backlog": 77}""");
        var config = await PrintConfigAsync([], new() { ["ECHOKIT_CONFIG"] = path });

        Assert.Equal(77, config.GetProperty("backlog").GetInt32());
    }

    [Fact]
    public async Task UnrelatedEchokitVariablesAreIgnored()
    {
        // What Kubernetes injects for a Service named echokit: none of it is an option.
        var config = await PrintConfigAsync([], new()
        {
            ["ECHOKIT_SERVICE_HOST"] = "10.0.0.1",
            ["ECHOKIT_PORT"] = "tcp://10.0.0.1:7",
            ["ECHOKIT_PORT_7_TCP_PROTO"] = "tcp",
        });

        Assert.Equal(512, config.GetProperty("backlog").GetInt32());
    }

    [Theory]
    [InlineData("--tcp", "127.0.0.1:7000", "--tcp", "[::1]:7001", "--backlog", "64", "--shutdown-timeout", "1500ms", "--dump", "hex",
        "--log-format", "json", "--metrics", "127.0.0.1:0", "-q")]
    [InlineData("--udp", "127.0.0.1:0", "--udp-deny-source-ports", "default,5000")]
    [InlineData("--udp", "127.0.0.1:0", "--udp-deny-source-ports", "7", "--udp-deny-source-ports", "53,4444")]
    [InlineData("--udp", "127.0.0.1:0", "--udp-deny-source-ports", "none")]
    [InlineData("--udp", "127.0.0.1:0", "--udp-deny-source-ports", "1024-2047,default")]
    [InlineData("--tcp", "127.0.0.1:7000", "--unix", "/tmp/echokit-round-trip.sock", "--unix-mode", "0640", "--proxy-protocol", "tcp,unix")]
    [InlineData("--unix", "/tmp/echokit-round-trip.sock", "--unix-mode", "0")]
    [InlineData("--tcp", "127.0.0.1:7000", "--proxy-protocol")]
    public async Task PrintedConfigurationReadsBackAsAConfigFile(params string[] args)
    {
        var first = await PrintConfigAsync(args);
        var path = WriteConfig(first.GetRawText());

        var second = await PrintConfigAsync(["--config", path]);

        Assert.Equal(first.GetRawText(), second.GetRawText());
    }

    [Fact]
    public async Task RelativePathsInAConfigFileAreRelativeToItsDirectoryAndPrintedAbsolute()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "etc", "ranges"));
        File.WriteAllText(Path.Combine(_directory, "etc", "ranges", "allow.txt"), "127.0.0.1\n");
        var path = WriteConfig("""{"unix": ["echo.sock"], "allow-file": ["ranges/allow.txt"], "deny-file": null}""", Path.Combine("etc", "config.json"));

        // The test's working directory is not the config file's: a path relative to it would not be found.
        var config = await PrintConfigAsync(["--config", path]);

        Assert.Equal(Path.Combine(_directory, "etc", "echo.sock"), config.GetProperty("unix")[0].GetString());
        Assert.Equal(Path.Combine(_directory, "etc", "ranges", "allow.txt"), config.GetProperty("allow-file")[0].GetString());
    }

    [Fact]
    public async Task RelativePathsOnTheCommandLineAreRelativeToTheWorkingDirectoryAndPrintedAbsolute()
    {
        var config = await PrintConfigAsync(["--unix", "echo.sock", "--tcp", "127.0.0.1:0"]);

        Assert.Equal(Path.Combine(Directory.GetCurrentDirectory(), "echo.sock"), config.GetProperty("unix")[0].GetString());
    }

    [Theory]
    [InlineData("file", new[] { "7", "53", "4444" })]
    [InlineData("environment", new[] { "7", "53", "4444" })]
    [InlineData("flags", new[] { "7", "53", "4444" })]
    [InlineData("file", new[] { "default", "4444" })]
    [InlineData("environment", new[] { "default", "4444" })]
    [InlineData("flags", new[] { "default", "4444" })]
    public async Task EveryItemOfAUdpDenyListCountsWhateverItsSource(string source, string[] items)
    {
        string[] args = ["--udp", "127.0.0.1:0"];
        Dictionary<string, string>? environment = null;
        switch (source)
        {
            case "file":
                var list = string.Join(", ", items.Select(i => int.TryParse(i, out _) ? i : $"\"{i}\""));
                args = [.. args, "--config", WriteConfig($$"""{"udp-deny-source-ports": [{{list}}]}""")];
                break;
            case "environment":
                environment = new() { ["ECHOKIT_UDP_DENY_SOURCE_PORTS"] = string.Join(',', items) };
                break;
            default:
                args = [.. args, .. items.SelectMany(i => new[] { "--udp-deny-source-ports", i })];
                break;
        }

        var config = await PrintConfigAsync(args, environment);

        var expected = items.SelectMany(i => i == "default" ? UdpOptions.DefaultDenySourcePorts : [int.Parse(i, CultureInfo.InvariantCulture)]).Order();
        Assert.Equal(expected, DeniedSourcePorts(config));
    }

    /// <summary>The source ports a printed configuration denies.</summary>
    private static IEnumerable<int> DeniedSourcePorts(JsonElement config)
    {
        var text = config.GetProperty("udp-deny-source-ports").GetString();
        Assert.True(PortList.TryParse(text, [], out var ports, out var error), error);
        return ports;
    }

    [Fact]
    public async Task PrintConfigWritesValuesInTheFormsTheirOptionsRead()
    {
        var config = await PrintConfigAsync(["--tcp", "127.0.0.1:7000", "--unix", Path.Combine(_directory, "m.sock"), "--unix-mode", "640",
            "--proxy-protocol", "tcp,unix", "--udp", "127.0.0.1:0", "--udp-deny-source-ports", "none"]);
        var alone = await PrintConfigAsync(["--tcp", "127.0.0.1:7000", "--proxy-protocol", "--udp", "127.0.0.1:0", "--udp-deny-source-ports", "7,13-19"]);

        Assert.Equal("0640", config.GetProperty("unix-mode").GetString());
        Assert.Equal("tcp,unix", config.GetProperty("proxy-protocol").GetString());
        Assert.Equal("none", config.GetProperty("udp-deny-source-ports").GetString());
        Assert.True(alone.GetProperty("proxy-protocol").GetBoolean());
        Assert.Equal("7,13-19", alone.GetProperty("udp-deny-source-ports").GetString());
    }

    [Fact]
    public async Task TheDefaultUdpRateLimitIsPrintedAsUnsetSoThatReadBackItStillSparesLoopback()
    {
        // A printed 1000 would read back as a limit given, and a given limit applies to loopback sources too.
        var unset = await PrintConfigAsync(["--udp", "127.0.0.1:0"]);
        var given = await PrintConfigAsync(["--udp", "127.0.0.1:0", "--udp-rate-limit", "1000"]);

        Assert.Equal(JsonValueKind.Null, unset.GetProperty("udp-rate-limit").ValueKind);
        Assert.Equal(1000, given.GetProperty("udp-rate-limit").GetInt32());
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public async Task AnOptionWithAnOptionalValueTakesTrueForTheOptionAloneAndFalseForOff(string value, bool on)
    {
        var path = WriteConfig($$"""{"tcp": ["127.0.0.1:7000"], "proxy-protocol": {{value}}}""");

        var fromFile = await PrintConfigAsync(["--config", path]);
        var fromEnvironment = await PrintConfigAsync(["--tcp", "127.0.0.1:7000"], new() { ["ECHOKIT_PROXY_PROTOCOL"] = on ? "yes" : "0" });

        Assert.Equal(on ? JsonValueKind.True : JsonValueKind.Null, fromFile.GetProperty("proxy-protocol").ValueKind);
        Assert.Equal(on ? JsonValueKind.True : JsonValueKind.Null, fromEnvironment.GetProperty("proxy-protocol").ValueKind);
    }

    [Theory]
    [InlineData("""{"backlogg": 128}""", "unknown key 'backlogg'")]
    [InlineData("""{"backlog": 0}""", "key 'backlog': invalid value '0' for --backlog")]
    [InlineData("""{"backlog": "many"}""", "key 'backlog': invalid value 'many' for --backlog")]
    [InlineData("""{"shutdown-timeout": "soon"}""", "key 'shutdown-timeout': invalid duration 'soon'")]
    [InlineData("""{"tcp": ["127.0.0.1:99999"]}""", "key 'tcp':")]
    [InlineData("""{"backlog": [1, 2]}""", "key 'backlog': takes one value, not a list")]
    [InlineData("""{"backlog": [1]}""", "key 'backlog': takes one value, not a list")]
    [InlineData("""{"quiet": [true]}""", "key 'quiet': takes one value, not a list")]
    [InlineData("""{"backlog": {"value": 1}}""", "key 'backlog': expected a string, number")]
    [InlineData("""{"backlog": 1, "backlog": 2}""", "key 'backlog' repeats 'backlog'")]
    [InlineData("""{"config": "other.json"}""", "key 'config' cannot be set in a config file")]
    [InlineData("""[1, 2]""", "expected a JSON object of options")]
    [InlineData("""{"backlog": 1""", "invalid JSON at line 1")]
    public async Task BadConfigFileExitsTwoNamingTheFileAndKey(string json, string expected)
    {
        var path = WriteConfig(json);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--config", path]);

        Assert.Equal(2, code);
        Assert.StartsWith($"echokit serve: config file {path}: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("listening", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task AConfigFileThatIsNotUtf8ExitsTwoSayingWhere()
    {
        var path = Path.Combine(_directory, "latin1.json");
        File.WriteAllBytes(path, [.. "{\n  \"backlog\": \""u8, 0xFF, .. "\"\n}"u8]);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--config", path, "--print-config"]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit serve: config file {path}: not UTF-8 text at line 2, byte 15\n", stderr);
    }

    [Fact]
    public async Task AConfigFileWithAUtf8ByteOrderMarkIsRead()
    {
        var path = Path.Combine(_directory, "notepad.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. """{"backlog": 5}"""u8]);

        var config = await PrintConfigAsync(["--config", path]);

        Assert.Equal(5, config.GetProperty("backlog").GetInt32());
    }

    [Fact]
    public async Task AnEmptyConfigFileNameIsAUsageError()
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--config", "", "--print-config"]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("echokit serve: --config: empty file name", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task MissingConfigFileExitsOneAsSendDoesForAMissingInputFile()
    {
        var path = Path.Combine(_directory, "absent.json");

        var (code, _, stderr) = await EchokitProcess.RunAsync(["serve", "--config", path]);

        Assert.Equal(1, code);
        Assert.Equal($"echokit serve: config file {path}: no such file\n", stderr);
    }

    [Theory]
    [InlineData("ECHOKIT_BACKLOG", "lots", "environment variable ECHOKIT_BACKLOG: invalid value 'lots' for --backlog")]
    [InlineData("ECHOKIT_TCP", "127.0.0.1:7000,nonsense:port:x", "environment variable ECHOKIT_TCP:")]
    [InlineData("ECHOKIT_LOG_FORMAT", "xml", "environment variable ECHOKIT_LOG_FORMAT: invalid value 'xml' for --log-format")]
    [InlineData("ECHOKIT_QUIET", "maybe", "environment variable ECHOKIT_QUIET:")]
    public async Task BadEnvironmentValueExitsTwoNamingTheVariable(string variable, string value, string expected)
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync(["serve"], new Dictionary<string, string> { [variable] = value });

        Assert.Equal(2, code);
        Assert.StartsWith("echokit serve: ", stderr);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public async Task CommandLineValueHidesABadValueBelowIt()
    {
        // The environment's bad value is never used: the command line gives the option.
        var config = await PrintConfigAsync(["--backlog", "10"], new() { ["ECHOKIT_BACKLOG"] = "lots" });

        Assert.Equal(10, config.GetProperty("backlog").GetInt32());
    }

    [Fact]
    public async Task ServerListensWhereTheConfigFileSays()
    {
        var path = WriteConfig("""{"tcp": ["127.0.0.1:0"], "metrics": ["127.0.0.1:0"]}""");
        await using var server = EchokitProcess.Start(["serve", "--config", path], new Dictionary<string, string> { ["ECHOKIT_LOG_FORMAT"] = "text" }, TestTimeouts.Default);

        var listeners = await server.WaitForListenersAsync(2);

        Assert.Contains(listeners, u => u.Scheme == "http" && u.Host == "127.0.0.1" && u.Port > 0);
        Assert.Contains(listeners, u => u.Scheme == "tcp" && u.Host == "127.0.0.1" && u.Port > 0);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task PrintConfigNamesTheEngineOfEachStreamListenerOnStandardErrorOnly()
    {
        using var certificate = new TestCertificates();
        var unix = Path.Combine(_directory, "e.sock");
        string[] listeners = ["--tcp", "127.0.0.1:7000", "--tls", "127.0.0.1:7001", "--tls-cert", certificate.CertificatePath,
            "--tls-key", certificate.KeyPath, "--unix", unix, "--udp", "127.0.0.1:7002", "--print-config"];

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", .. listeners, "--engine", "epoll", "--io-threads", "3"]);
        var (sockets, _, socketsErr) = await EchokitProcess.RunAsync(["serve", .. listeners, "--engine", "sockets"]);

        Assert.Equal(0, code);
        Assert.Equal(0, sockets);
        JsonDocument.Parse(stdout).Dispose(); // standard output is still a config file
        Assert.Equal(
            ["# tcp 127.0.0.1:7000: epoll engine, 3 event loop(s)",
             "# tls 127.0.0.1:7001: sockets engine (TLS is always served by System.Net.Sockets)",
             $"# unix {unix}: epoll engine, 3 event loop(s)"],
            stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(
            ["# tcp 127.0.0.1:7000: sockets engine",
             "# tls 127.0.0.1:7001: sockets engine (TLS is always served by System.Net.Sockets)",
             $"# unix {unix}: sockets engine"],
            socketsErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task HelpIsShownEvenWhenTheConfigFileIsBad()
    {
        var path = WriteConfig("""{"backlogg": 1}""");

        var (code, stdout, _) = await EchokitProcess.RunAsync(["serve", "--config", path, "--help"]);

        Assert.Equal(0, code);
        Assert.Matches(new Regex("--config FILE"), stdout);
    }
}
