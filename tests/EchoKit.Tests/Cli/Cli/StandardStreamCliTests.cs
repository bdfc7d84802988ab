using EchoKit.Tests.Support;

namespace EchoKit.Tests.Cli;

/// <summary>
/// Standard input and output that fail under a command: a full disk, a descriptor the shell closed, a directory as
/// input. Each is one line in the system's words and exit 1, never an unhandled exception.
/// </summary>
[Trait("Kind", "Cli")]
public sealed class StandardStreamCliTests
{
    [Theory]
    [InlineData("> /dev/full", "No space left on device", "--version")]
    [InlineData(">&-", "Bad file descriptor", "--version")]
    [InlineData("> /dev/full", "No space left on device", "--help")]
    [InlineData(">&-", "Bad file descriptor", "send", "--help")]
    public async Task AFailedWriteOfHelpOrVersionIsOneLineAndExitOne(string redirection, string reason, params string[] args)
    {
        var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync(redirection, args);

        Assert.Equal(1, code);
        Assert.Equal($"echokit: cannot write output: {reason}\n", stderr);
    }

    [Theory]
    [InlineData("> /dev/full", "No space left on device")]
    [InlineData(">&-", "Bad file descriptor")]
    public async Task SendWhoseOutputCannotBeWrittenSaysSoInOneLine(string redirection, string reason)
    {
        await using var server = await TestServer.StartAsync();

        var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync(redirection, ["send", $"127.0.0.1:{server.Port}", "hi"]);

        Assert.Equal(1, code);
        Assert.Equal($"echokit: cannot write output: {reason}\n", stderr);
    }

    [Fact]
    public async Task SendOfABigFileIntoAFullDiskSaysSoAtOnceNotThatItTimedOut()
    {
        await using var server = await TestServer.StartAsync();
        var path = Path.Combine(Path.GetTempPath(), $"echokit-full-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, SocketIo.RandomBytes(8 * 1024 * 1024, 4));
        try
        {
            var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync("> /dev/full", ["send", $"127.0.0.1:{server.Port}", "-f", path]);

            Assert.Equal(1, code);
            Assert.Equal("echokit: cannot write output: No space left on device\n", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task SendWhoseInputCannotBeReadSaysSoInOneLine()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunRedirectedAsync("< /tmp", ["send", $"127.0.0.1:{server.Port}"]);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("echokit: cannot read input: Is a directory\n", stderr);
    }

    [Fact]
    public async Task ConnectWithStandardOutputClosedNamesTheErrorNotDotNetsException()
    {
        await using var server = await TestServer.StartAsync();

        var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync("<<< hi >&-", ["connect", $"127.0.0.1:{server.Port}"]);

        Assert.Equal(1, code);
        Assert.Equal($"echokit: 127.0.0.1:{server.Port}: cannot write output: Bad file descriptor\n", stderr);
    }

    [Fact]
    public async Task PingIntoAFullDiskReportsItInsteadOfExitingAsIfNobodyRead()
    {
        await using var server = await TestServer.StartAsync();

        var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync("> /dev/full", ["ping", "-c", "1", $"127.0.0.1:{server.Port}"]);

        Assert.Equal(1, code);
        Assert.Equal("echokit: cannot write output: No space left on device\n", stderr);
    }

    [Fact]
    public async Task SendStartedWithStandardInputClosedSendsTheDefaultMessage()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunRedirectedAsync("<&-", ["send", $"127.0.0.1:{server.Port}"]);

        Assert.True(code == 0, stderr);
        Assert.Equal("Hello, world\n", stdout);
    }

    [Fact]
    public async Task ConnectStartedWithStandardInputClosedEndsItsInputAtOnce()
    {
        await using var server = await TestServer.StartAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunRedirectedAsync("<&-", ["connect", "-v", $"127.0.0.1:{server.Port}"]);

        Assert.True(code == 0, stderr);
        Assert.Equal("", stdout);
        Assert.Contains("input ended after 0 B; sent FIN", stderr);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("send", "127.0.0.1:9", "--help")]
    public async Task StartedWithInputAndOutputClosedNothingIsWrittenIntoTheRuntimesOwnPipe(params string[] args)
    {
        // With 0 and 1 closed, the runtime's first pipe takes both: "standard output" would be its write end.
        var (code, _, stderr) = await EchokitProcess.RunRedirectedAsync("<&- >&-", args);

        Assert.Equal(1, code);
        Assert.Equal("echokit: cannot write output: Bad file descriptor\n", stderr);
    }
}
