using System.Net.Sockets;
using System.Text;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Cli;

[Trait("Kind", "Cli")]
public sealed class ServeCliTests
{
    [Fact]
    public async Task ServePrintsListeningWithTheBoundPortAndEchoes()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0");
        var port = await serve.WaitForListeningPortAsync();

        Assert.Matches(@"(?m)^listening tcp://127\.0\.0\.1:\d+$", serve.Stdout);
        var (code, stdout, _) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}");
        Assert.Equal(0, code);
        Assert.Equal("Hello, world\n", stdout);
    }

    [Fact]
    public async Task ServeLogsOnlineAndClosedLinesPerClient()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--dump", "text");
        var port = await serve.WaitForListeningPortAsync();

        await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}", "ping");
        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());

        var output = serve.Stdout;
        Assert.Matches(@"#1 online 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ on tcp://127\.0\.0\.1:\d+", output);
        Assert.Contains("ping", output);
        Assert.Matches(@"#1 closed 127\.0\.0\.1:\d+ \(closed by peer\) in 4 B, out 4 B", output);
    }

    [Fact]
    public async Task DumpTextEscapesTerminalControlBytesFromTheClient()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--dump", "text");
        var port = await serve.WaitForListeningPortAsync();

        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", port);
            var stream = client.GetStream();
            var payload = "\u001b]0;owned\u0007\u001b[2Jhi\r\0 ✓\n"u8.ToArray();
            await stream.WriteAsync(payload);
            client.Client.Shutdown(SocketShutdown.Send);
            var echoed = new byte[payload.Length];
            await stream.ReadExactlyAsync(echoed);
            Assert.Equal(payload, echoed);
        }
        await serve.WaitForStdoutAsync("\\x1b]0;owned\\x07\\x1b[2Jhi\\r\\0 ✓");
        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());

        Assert.DoesNotContain(serve.StdoutBytes, b => b is 0x1b or 0x07 or 0x00 or (byte)'\r');
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task VerboseSaysListeningOnceForEachListener(string format)
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "-v", "--log-format", format);
        await serve.WaitForListeningPortAsync();
        serve.Interrupt();
        Assert.Equal(0, await serve.WaitForExitAsync());

        var listening = serve.Stdout.Split('\n').Where(l => l.Contains("listening tcp://", StringComparison.Ordinal) || l.Contains("listening udp://", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, listening.Count);
        Assert.Contains(serve.Stdout.Split('\n'), l => l.Contains("served by the epoll engine", StringComparison.Ordinal)); // -v's debug lines are there
    }

    [Fact]
    public async Task JsonLogFormatPrintsOneObjectPerEvent()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--log-format", "json");
        var port = await serve.WaitForListeningPortAsync();
        await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}");
        serve.Interrupt();
        Assert.Equal(0, await serve.WaitForExitAsync());

        var events = serve.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement).ToList();
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "Listening");
        var closed = Assert.Single(events, e => e.GetProperty("event").GetString() == "ConnectionClosed");
        Assert.Equal(12, closed.GetProperty("bytes_in").GetInt64());
        Assert.StartsWith("127.0.0.1:", closed.GetProperty("remote").GetString());
        Assert.StartsWith("tcp://127.0.0.1:", closed.GetProperty("listener").GetString());
    }

    [Fact]
    public async Task QuietPrintsOnlyTheListeningLine()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--quiet");
        var port = await serve.WaitForListeningPortAsync();
        await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}");
        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());

        Assert.Equal($"listening tcp://127.0.0.1:{port}\n", serve.Stdout);
    }

    [Fact]
    public async Task AddressInUseExitsOneNamingTheAddress()
    {
        await using var first = await TestServer.StartAsync();

        var (code, _, stderr) = await EchokitProcess.RunAsync("serve", "--tcp", $"127.0.0.1:{first.Port}");

        Assert.Equal(1, code);
        Assert.Contains($"127.0.0.1:{first.Port}", stderr);
        Assert.Contains("in use", stderr);
    }

    [Fact]
    public async Task PrivilegedPortWithoutPrivilegeExitsOneWithPermissionDeniedAndAHint()
    {
        var result = await EchokitProcess.RunUnprivilegedAsync("serve", "--tcp", "127.0.0.1:80");
        if (result is null)
        {
            // Not root here: this process itself is unprivileged, so try directly.
            result = await EchokitProcess.RunAsync("serve", "--tcp", "127.0.0.1:80");
        }

        var (code, _, stderr) = result.Value;
        Assert.Equal(1, code);
        Assert.Contains("127.0.0.1:80: permission denied", stderr);
        Assert.Contains("CAP_NET_BIND_SERVICE", stderr);
    }

    [Theory]
    [InlineData("--tcp", "127.0.0.1:99999")]
    [InlineData("--tcp", "[::1")]
    [InlineData("--backlog", "0")]
    [InlineData("--shutdown-timeout", "soon")]
    [InlineData("--dump", "binary")]
    [InlineData("--no-such-option")]
    public async Task BadOptionExitsTwoWithAOneLineError(params string[] args)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", .. args]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("echokit serve: ", stderr);
    }

    [Theory]
    [InlineData("--tcp")]
    [InlineData("--udp")]
    public async Task Ipv4MappedListenAddressIsAUsageErrorSuggestingThePlainIpv4Address(string flag)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("serve", flag, "[::ffff:127.0.0.1]:0");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("echokit serve: invalid endpoint '[::ffff:127.0.0.1]:0': write IPv4-mapped addresses as IPv4: 127.0.0.1:0 (see ", stderr);
    }

    [Fact]
    public async Task UnixPathThatIsADirectoryExitsOneSayingSo()
    {
        var directory = Directory.CreateTempSubdirectory("ek-").FullName;
        try
        {
            var (code, stdout, stderr) = await EchokitProcess.RunAsync("serve", "--unix", directory);

            Assert.Equal(1, code);
            Assert.DoesNotContain("listening", stdout);
            Assert.Equal($"echokit: cannot listen on unix://{directory}: '{directory}' is a directory", stderr.Trim());
            Assert.True(Directory.Exists(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task SigtermDrainsOpenClientThenExitsZero()
    {
        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0");
        var port = await serve.WaitForListeningPortAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync("127.0.0.1", port);
        await SocketIo.SendAllAsync(client, "before"u8.ToArray());
        await SocketIo.ReceiveExactlyAsync(client, 6);

        serve.Terminate();
        // The server stops listening but keeps echoing for the open client.
        await serve.WaitForStdoutAsync("shutting down");
        await SocketIo.SendAllAsync(client, "after"u8.ToArray());
        Assert.Equal("after", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 5)));
        Assert.False(serve.HasExited);

        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    [Fact]
    public async Task SighupDrainsOpenClientRemovesTheUnixSocketAndExitsZero()
    {
        var path = TestServer.UnixPath();
        try
        {
            await using var serve = EchokitProcess.Start("serve", "--unix", path);
            await serve.WaitForStdoutAsync("listening");
            using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(path));
            Assert.Equal("before"u8.ToArray(), await TestClients.EchoAsync(client, "before"u8.ToArray()));

            serve.Signal(EchokitProcess.SigHup);
            // As on SIGTERM: the listener closes, the open client keeps being echoed.
            await serve.WaitForStdoutAsync("shutting down");
            Assert.Equal("after"u8.ToArray(), await TestClients.EchoAsync(client, "after"u8.ToArray()));
            Assert.False(serve.HasExited);

            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await serve.WaitForExitAsync());
            Assert.False(File.Exists(path), "the socket file is removed on a SIGHUP stop");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task ServeInAClosingTerminalStopsCleanlyAndRemovesItsUnixSocket()
    {
        // The terminal's hang-up is a SIGHUP, and every later write to it fails (EIO): the server must drain and clean up
        // all the same, not die on its next log line.
        var path = TestServer.UnixPath();
        try
        {
            var (code, stdout, _) = await EchokitProcess.RunOnTerminalThenCloseItAsync(["serve", "--unix", path]);

            Assert.Contains($"listening unix://{path}", stdout);
            Assert.Equal(0, code);
            Assert.False(File.Exists(path), "the socket file is removed when the terminal closes");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
