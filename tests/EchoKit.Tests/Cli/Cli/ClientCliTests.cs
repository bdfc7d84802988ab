using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Cli;

/// <summary>The client commands as a user runs them: what they print and how they exit. Few, the rest is tested in process.</summary>
[Trait("Kind", "Cli")]
public sealed class ClientCliTests
{
    [Fact]
    public async Task BareEchokitPrintsTheUsage()
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync();

        Assert.Equal(0, code);
        Assert.StartsWith("Usage: echokit COMMAND [options]", stdout);
        Assert.Contains("Commands:", stdout);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("send", "--help")]
    [InlineData("bogus")]
    [InlineData("send", "ECHO", "hello")]
    [InlineData("bench", "ECHO", "-n", "10", "--warmup", "0")]
    [InlineData("ping", "ECHO", "-c", "1")]
    public async Task OnATerminalNoCommandWritesAnEscapeSequenceOfItsOwn(params string[] args)
    {
        // .NET's console stream puts a terminal into application keypad mode (ESC [?1h ESC =) on its first write and
        // never takes it back; echokit must leave its user's terminal as it found it.
        await using var server = await TestServer.StartAsync();
        var (code, shown, _) = await EchokitProcess.RunOnTerminalAsync(args.Select(a => a == "ECHO" ? $"127.0.0.1:{server.Port}" : a));

        Assert.True(code is 0 or 2, shown);
        Assert.True(shown.Length > 0, "something is printed");
        Assert.DoesNotContain('\u001b', shown);
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageErrorListingEveryCommand()
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("pnig", "127.0.0.1:7");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("echokit: unknown command 'pnig' (commands: serve, send, connect, bench, ping, probe) (see 'echokit --help')\n", stderr);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("probe", "nat")]
    [InlineData("bench", "merge")]
    public async Task HelpCommandShowsTheSameHelpAsTheCommandsHelpOption(params string[] command)
    {
        var viaWord = await EchokitProcess.RunAsync(["help", .. command]);
        var viaOption = await EchokitProcess.RunAsync([.. command, "--help"]);

        Assert.Equal((0, ""), (viaWord.ExitCode, viaWord.Stderr));
        Assert.StartsWith($"Usage: echokit {string.Join(' ', command)} ", viaWord.Stdout);
        Assert.Equal(viaOption.Stdout, viaWord.Stdout);
    }

    [Fact]
    public async Task HelpCommandFollowedByHelpOptionShowsTheCommandsHelp()
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("help", "serve", "--help");

        Assert.Equal((0, ""), (code, stderr));
        Assert.StartsWith("Usage: echokit serve ", stdout);
    }

    [Theory]
    [InlineData("echokit: unknown command 'pnig' (commands: serve, send, connect, bench, ping, probe) (see 'echokit --help')", "pnig")]
    [InlineData("echokit probe: unknown command 'x' (commands: nat, idle, mtu, lb) (see 'echokit probe --help')", "probe", "x")]
    [InlineData("echokit serve: unexpected argument '--tcp' (see 'echokit serve --help')", "serve", "--tcp")]
    public async Task HelpForACommandThatDoesNotExistIsAUsageErrorNotTheTopLevelHelp(string expected, params string[] words)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["help", .. words]);

        Assert.Equal((2, "", expected + "\n"), (code, stdout, stderr));
    }

    [Fact]
    public async Task AnUnknownOptionIsAUsageErrorWordedTheSameEverywhere()
    {
        var send = await EchokitProcess.RunAsync("send", "--bogus", "127.0.0.1:50007");
        var merge = await EchokitProcess.RunAsync("bench", "merge", "a.json", "--bogus");

        Assert.Equal((2, "echokit send: unknown option '--bogus' (see 'echokit send --help')\n"), (send.ExitCode, send.Stderr));
        Assert.Equal((2, "echokit bench merge: unknown option '--bogus' (see 'echokit bench merge --help')\n"), (merge.ExitCode, merge.Stderr));
    }

    [Fact]
    public async Task AnOptionOfOneValueGivenTwiceIsAUsageErrorInOurWords()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "--timeout", "1s", "--timeout", "2s", "127.0.0.1:50007");

        Assert.Equal((2, "echokit send: --timeout was given 2 times: give it once (see 'echokit send --help')\n"), (code, stderr));
    }

    [Theory]
    [InlineData("send", "ECHO", "--timeout", "50d")]
    [InlineData("probe", "nat", "ECHO", "--timeout", "50d")]
    [InlineData("probe", "mtu", "ECHO", "--timeout", "50d")]
    [InlineData("probe", "lb", "ECHO", "-n", "1", "--timeout", "50d")]
    [InlineData("probe", "idle", "ECHO", "--max", "2s", "--grace", "50d")]
    [InlineData("probe", "idle", "ECHO", "--max", "50d")]
    [InlineData("ping", "ECHO", "-c", "1", "--deadline", "50d")]
    [InlineData("serve", "--tcp", "127.0.0.1:0", "--shutdown-timeout", "50d")]
    public async Task ADurationBeyondWhatTimersTakeIsOneUsageErrorLineNotACrash(params string[] args)
    {
        // 50 days is past the 49.7 a .NET timer takes: the command must refuse it at once, not throw from a timer.
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(args.Select(a => a == "ECHO" ? $"127.0.0.1:{server.Port}" : a));

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Matches(@"^echokit [a-z ]+: --[a-z-]+ must be at most 24d \(got '50d'\) \(see 'echokit [a-z ]+ --help'\)\n$", stderr);
    }

    [Theory]
    [InlineData("-n", "probe", "lb", "ECHO", "-n", "3", "-n")]
    [InlineData("--dscp", "probe", "nat", "ECHO", "--dscp", "3", "--dscp")]
    [InlineData("--max", "probe", "idle", "ECHO", "--max", "1s", "--max")]
    [InlineData("--timeout", "send", "ECHO", "--timeout", "1s", "--timeout")]
    [InlineData("-c", "ping", "ECHO", "-c", "1", "-c")]
    [InlineData("--backlog", "serve", "--tcp", "127.0.0.1:0", "--backlog", "5", "--backlog")]
    public async Task AnOptionOfOneValueRepeatedWithoutItsValueAtTheEndIsAUsageError(string option, params string[] args)
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(args.Select(a => a == "ECHO" ? $"127.0.0.1:{server.Port}" : a));

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Matches($@"^echokit [a-z ]+: {option} was given 2 times: give it once \(see 'echokit [a-z ]+ --help'\)\n$", stderr);
    }

    [Fact]
    public async Task AUsageErrorShowsControlBytesOfTheCommandLineEscaped()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "a\u001bb:7");

        Assert.Equal(2, code);
        Assert.DoesNotContain('\u001b', stderr);
        Assert.Contains("a\\x1bb", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task DoubleDashSendsWordsThatLookLikeOptions()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, _) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "--", "-n");

        Assert.Equal(0, code);
        Assert.Equal("-n\n", stdout);
    }

    [Fact]
    public async Task SendReachesAUnixSocketWithDashU()
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-{Guid.NewGuid():N}.sock");
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Unix(path));
        await using var server = new EchoServer(options);
        await server.StartAsync(TestTimeouts.Token());

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "-U", path, "over", "unix");

        Assert.True(code == 0, stderr);
        Assert.Equal("over unix\n", stdout);
    }

    [Fact]
    public async Task SendReachesALongUnixSocketPathByTheAddressServePrints()
    {
        // 107 bytes, the longest sun_path takes: the "//" of unix:///PATH must not count.
        var directory = Directory.CreateTempSubdirectory("echokit-").FullName;
        var path = Path.Combine(directory, new string('s', 107 - directory.Length - 1));
        try
        {
            await using var serve = EchokitProcess.Start("serve", "--unix", path);
            var listener = (await serve.WaitForListenersAsync(1))[0];

            var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", listener.OriginalString, "by", "uri");

            Assert.Equal($"unix://{path}", listener.OriginalString);
            Assert.True(code == 0, stderr);
            Assert.Equal("by uri\n", stdout);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("send", "-U")]
    [InlineData("connect", "-U")]
    [InlineData("ping", "-c", "1", "-U")]
    [InlineData("bench", "-n", "1", "-U")]
    [InlineData("send")]
    public async Task AUnixSocketPathTooLongForTheSocketAddressIsOneUsageErrorLine(params string[] command)
    {
        var path = "/tmp/" + new string('a', 120);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync([.. command, path]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains($"Unix socket path '{path}' is longer than 107 bytes", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task VerboseFailureListsEachAddressTriedAndNoEmptyTotals()
    {
        using var closed = new ClosedPort();

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "-v", $":{closed.Port}");

        Assert.Equal(1, code);
        Assert.Contains($"tried 127.0.0.1:{closed.Port}: connection refused\n", stderr);
        Assert.DoesNotContain("sent 0 B", stderr);
        Assert.EndsWith($"echokit: :{closed.Port}: connection refused\n", stderr);
    }

    [Fact]
    public async Task TheAddressServePrintsCanBePastedIntoSend()
    {
        await using var serve = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--quiet"]);
        var listeners = await serve.WaitForListenersAsync(2);

        foreach (var uri in listeners.Select(u => u.OriginalString))
        {
            var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", uri, "pasted"); // udp:// is as good as --udp

            Assert.True(code == 0, $"{uri}: {stderr}");
            Assert.Equal("pasted\n", stdout);
        }
    }

    [Fact]
    public async Task VerboseTlsFailureSaysNeitherConnectedNorRoundTrip()
    {
        await using var server = await TestServer.StartAsync(); // plain TCP: the handshake fails

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "--tls", "-v", $"127.0.0.1:{server.Port}", "hi");

        Assert.Equal(1, code);
        Assert.DoesNotContain("connected", stderr);
        Assert.DoesNotContain("round trip", stderr);
        Assert.DoesNotContain("sent 0 B", stderr);
        Assert.Matches(@"(?m)^detail: .*SSL", stderr); // the library's own words, with -v only
        Assert.EndsWith($"echokit: 127.0.0.1:{server.Port}: TLS handshake failed: the server did not answer with TLS (is it a plain TCP port?)\n", stderr);
    }

    [Fact]
    public async Task ATlsHandshakeFailureIsOneLineInOurWordsWithoutOpenSslsText()
    {
        await using var server = await TestServer.StartAsync(); // plain TCP

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "--tls", $"127.0.0.1:{server.Port}", "hi");

        Assert.Equal(1, code);
        Assert.Equal($"echokit: 127.0.0.1:{server.Port}: TLS handshake failed: the server did not answer with TLS (is it a plain TCP port?)\n", stderr);
    }

    [Fact]
    public async Task VerboseTimeoutCountsTheBytesButClaimsNoRoundTrip()
    {
        await using var server = FakeServers.Silent();

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "-v", $"127.0.0.1:{server.Port}", "--timeout", "500ms");

        Assert.Equal(1, code);
        Assert.Matches($@"connected 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:{server.Port} in ", stderr);
        Assert.Contains("sent 12 B, received 0 B\n", stderr);
        Assert.DoesNotContain("round trip", stderr);
    }

    [Fact]
    public async Task AMismatchIsShownWithOffsetHexAndContextOnStderr()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(7);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}");

        Assert.Equal(1, code);
        Assert.DoesNotContain("first difference", stdout);
        Assert.Contains($"echokit: 127.0.0.1:{server.Port}: mismatch at byte 7\n", stderr);
        Assert.Contains("first difference at byte 7 (0x7):", stderr);
        Assert.Matches(@"before \(7 B\)\s+48 65 6c 6c 6f 2c 20\s+\|Hello, \|", stderr);
        Assert.Matches(@"expected\s+77 6f 72 6c 64\s+\|world\|", stderr);
        Assert.Matches(@"actual\s+88 6f 72 6c 64\s+\|\.orld\|", stderr);
    }

    [Theory]
    [InlineData(EchokitProcess.SigTerm, 143)]
    [InlineData(EchokitProcess.SigInt, 130)]
    public async Task ASignalledClientExitsWithTheShellsCodeForTheSignal(int signal, int expected)
    {
        // The server says when the message arrived: the client is then connected, its signal handlers in place.
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = MisbehavingTcpServer.Custom(async (client, stop) =>
        {
            await client.ReceiveAsync(new byte[64], stop);
            received.TrySetResult();
            await Task.Delay(Timeout.Infinite, stop);
        });
        await using var send = EchokitProcess.Start("send", $"127.0.0.1:{server.Port}", "hello", "--timeout", "1m");
        await received.Task.WaitAsync(TestTimeouts.Default);

        send.Signal(signal);

        Assert.Equal(expected, await send.WaitForExitAsync());
        Assert.Contains("interrupted", send.Stderr);
    }

    [Theory]
    [InlineData(EchokitProcess.SigTerm, 143)]
    [InlineData(EchokitProcess.SigHup, 129)]
    public async Task ServeExitsWithTheSignalsCodeWhenASecondSignalForcedTheStop(int signal, int expected)
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--shutdown-timeout", "5m");
        var port = await serve.WaitForListeningPortAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await serve.WaitForStdoutAsync("online");

        serve.Signal(signal);
        await serve.WaitForStdoutAsync("shutting down");
        serve.Signal(signal);

        Assert.Equal(expected, await serve.WaitForExitAsync());
    }
}
