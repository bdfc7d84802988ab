using System.Text;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Cli;

[Trait("Kind", "Cli")]
public sealed class SendCliTests
{
    [Fact]
    public async Task SendWithoutMessageSendsHelloWorld()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}");

        Assert.Equal(0, code);
        Assert.Equal("Hello, world\n", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task SendPipesBinaryStdinToStdoutExactly()
    {
        await using var server = await TestServer.StartAsync();
        var payload = SocketIo.RandomBytes(3 * 1024 * 1024, 42);

        await using var send = EchokitProcess.Start("send", $"127.0.0.1:{server.Port}");
        await send.WriteAsync(payload);
        send.CloseInput();

        Assert.Equal(0, await send.WaitForExitAsync());
        Assert.True(payload.AsSpan().SequenceEqual(send.StdoutBytes), "stdout differs from stdin");
    }

    [Fact]
    public async Task SendWithEncodingRoundTripsGbkText()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, _) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "--encoding", "gbk", "你好，世界");

        Assert.Equal(0, code);
        Assert.Equal("你好，世界\n", stdout);
    }

    [Fact]
    public async Task SendHexWithAnEncodingIsAUsageErrorNotAnEncodingIgnored()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--hex", "--encoding", "gbk", $"127.0.0.1:{server.Port}", "de ad");

        Assert.Equal((2, "", "echokit send: give either --hex or --encoding, not both (see 'echokit send --help')\n"), (code, stdout, stderr));
    }

    [Fact]
    public async Task SendHexPrintsHex()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, _) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "--hex", "00 ff 7f");

        Assert.Equal(0, code);
        Assert.Equal("00 ff 7f\n", stdout);
    }

    [Fact]
    public async Task VerbosePrintsAddressesAndRoundTripOnStderr()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "-v", $"127.0.0.1:{server.Port}");

        Assert.Equal(0, code);
        Assert.Equal("Hello, world\n", stdout);
        Assert.Matches($@"connected 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:{server.Port}", stderr);
        Assert.Contains("round trip", stderr);
    }

    [Fact]
    public async Task RefusedConnectionExitsOne()
    {
        using var closed = new ClosedPort();
        var port = closed.Port;

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit: 127.0.0.1:{port}: connection refused\n", stderr);
    }

    [Fact]
    public async Task MismatchExitsOneNamingTheByte()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(offset: 3);

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "abcdefgh");

        Assert.Equal(1, code);
        Assert.Contains("mismatch at byte 3", stderr);
    }

    [Fact]
    public async Task EarlyCloseExitsOneWithCounts()
    {
        await using var server = MisbehavingTcpServer.ClosingAfter(5);

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "0123456789");

        Assert.Equal(1, code);
        Assert.Matches(@"after 5 of 10 bytes", stderr);
    }

    [Fact]
    public async Task SilentServerTimesOutWithTheTimeoutInTheMessage()
    {
        await using var server = FakeServers.Silent();

        var (code, _, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "--timeout", "500ms");

        Assert.Equal(1, code);
        Assert.Contains("timed out after 500ms", stderr);
    }

    [Fact]
    public async Task UnknownHostExitsOne()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("send", "no-such-host.invalid:7");

        Assert.Equal(1, code);
        Assert.Contains("host not found", stderr);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1:http-nope")]
    [InlineData("127.0.0.1:7", "--timeout", "0s")]
    [InlineData("127.0.0.1:7", "--encoding", "klingon")]
    [InlineData("127.0.0.1:7", "--hex", "xyz")]
    [InlineData("127.0.0.1:7", "hello", "--file", "/etc/hostname")]
    [InlineData("127.0.0.1:7", "--bogus")]
    public async Task BadInputExitsTwoWithAOneLineError(params string[] args)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["send", .. args]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("echokit send: ", stderr);
    }

    [Theory]
    [InlineData("latin1", "é€", "'€' cannot be encoded in latin1")]
    [InlineData("ascii", "naïve", "'ï' cannot be encoded in ascii")]
    [InlineData("gbk", "😀", "'😀' cannot be encoded in gbk")]
    public async Task ACharacterTheEncodingCannotWriteIsAUsageErrorNotAQuestionMark(string encoding, string message, string reason)
    {
        // Refused while the command line is read, before any connection: the port is never reached.
        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "127.0.0.1:9", "--encoding", encoding, message);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit send: {reason} (see 'echokit send --help')\n", stderr);
    }

    [Fact]
    public async Task SendFileEchoesItsBytes()
    {
        await using var server = await TestServer.StartAsync();
        var path = Path.GetTempFileName();
        var payload = Encoding.UTF8.GetBytes("line one\nline two\n");
        await File.WriteAllBytesAsync(path, payload);
        try
        {
            var (code, stdout, _) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", "--file", path);

            Assert.Equal(0, code);
            Assert.Equal("line one\nline two\n", stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AMessageWordStartingWithAtIsSentAsItIsEvenWhenAFileHasThatName()
    {
        await using var server = await TestServer.StartAsync();
        var path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, "the file's contents\n");
        try
        {
            var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", $"127.0.0.1:{server.Port}", $"@{path}");

            Assert.True(code == 0, stderr);
            Assert.Equal($"@{path}\n", stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
