using System.Net;
using System.Text.RegularExpressions;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Udp;

/// <summary><c>echokit serve --udp</c> and <c>echokit send --udp</c> as processes.</summary>
[Trait("Kind", "Cli")]
public sealed partial class UdpCliTests
{
    [GeneratedRegex(@"^listening udp://127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();

    [Fact]
    public async Task ServeWithOnlyUdpListensOnUdpAloneAndStopsOnSigterm()
    {
        await using var serve = EchokitProcess.Start(["serve", "--udp", "127.0.0.1:0", "--quiet"]);
        var line = await serve.ReadLineAsync();
        var match = ListeningLine().Match(line ?? "");
        Assert.True(match.Success, $"unexpected first line: {line}");
        var port = int.Parse(match.Groups[1].Value);

        var result = await UdpExchange.RunAsync(EndpointParser.Parse($"127.0.0.1:{port}"), "hi"u8.ToArray(), new UdpExchangeOptions(), null, CancellationToken.None);
        Assert.True(result.Success, result.Message);

        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());
        Assert.DoesNotContain("tcp://", serve.Stdout); // no default TCP listener when --udp is given
    }

    [Fact]
    public async Task SendUdpToAnotherAddressOfAWildcardServeIsAnswered()
    {
        // The report: serve --udp :PORT answered a datagram sent to 127.0.0.2 from 127.0.0.1, the route's choice, so
        // send --udp (which checks the source) said "no reply after 3 tries".
        await using var serve = EchokitProcess.Start(["serve", "--udp", ":0", "--quiet"]);
        var port = await serve.WaitForListeningPortAsync();

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--udp", $"127.0.0.2:{port}", "hello", "--timeout", "2s");

        Assert.True(code == 0, stderr);
        Assert.Equal("hello\n", stdout);
        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    [Fact]
    public async Task SendUdpSucceedsOnRetryAgainstAServerThatDropsTheFirstDatagram()
    {
        await using var server = MisbehavingUdpServer.Custom(static (n, data, _) => n == 1 ? null : data);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--udp", $"127.0.0.1:{server.EndPoint.Port}", "hello", "udp", "--timeout", "2s", "--retries", "2");

        Assert.True(code == 0, stderr);
        Assert.Equal("hello udp\n", stdout);
        // The retry logic itself runs on a fake clock in UdpExchangeTests; here 2 s per try only keeps a busy machine
        // from making a third. The server counts a datagram once answered, so the count may trail the exit.
        await TestTimeouts.WaitUntilAsync(() => server.Received >= 2, "the server to count both tries");
        Assert.Equal(2, server.Received);
    }

    [Fact]
    public async Task SendUdpFailsCleanlyAgainstASilentServer()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, _, _) => null);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--udp", $"127.0.0.1:{server.EndPoint.Port}", "--timeout", "200ms", "--retries", "1");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"echokit: 127.0.0.1:{server.EndPoint.Port}: no reply after 2 tries\n", stderr);
        Assert.Equal(2, server.Received);
    }

    [Fact]
    public async Task SendUdpReportsAMismatch()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, data, _) => [.. data[..2], (byte)'X', .. data[3..]]);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--udp", $"127.0.0.1:{server.EndPoint.Port}", "abcdef", "--timeout", "2s");

        Assert.Equal(1, code);
        Assert.Equal("ab\n", stdout); // the bytes that matched, as TCP send prints them; not the wrong answer
        Assert.Contains("mismatch at byte 2\n", stderr);
        Assert.Matches(@"before \(2 B\)\s+61 62\s+\|ab\|\n\s+expected\s+63 64 65 66\s+\|cdef\|\n\s+actual\s+58 64 65 66\s+\|Xdef\|", stderr);
    }

    [Fact]
    public async Task SendUdpNeverWritesAWrongAnswersEscapeSequencesAnywhere()
    {
        // Retitle the window, clear the screen, a one-byte CSI and a byte that is not UTF-8.
        byte[] hostile = [0x1b, .. "]0;owned"u8, 0x07, 0x1b, .. "[2Jhi"u8, 0x9b, .. "31m"u8, 0xff];
        await using var server = MisbehavingUdpServer.Custom((_, _, _) => hostile);

        var (code, stdout, stderr) = await EchokitProcess.RunAsync("send", "--udp", $"127.0.0.1:{server.EndPoint.Port}", "hello", "--timeout", "2s");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("mismatch at byte 0\n", stderr);
        Assert.DoesNotContain('\x1b', stdout + stderr);
        Assert.DoesNotContain('\x07', stdout + stderr);
    }

    [Fact]
    public async Task SendUdpRefusesAMessageTooBigForAnyDatagram()
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-udp-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, new byte[UdpOptions.MaxIPv6Datagram + 1]);
        try
        {
            var (code, _, stderr) = await EchokitProcess.RunAsync("send", "--udp", "127.0.0.1:9", "--file", path);

            Assert.Equal(2, code);
            Assert.Contains("65527", stderr);
            Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ServeRejectsABadDenyList()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("serve", "--udp", "127.0.0.1:0", "--udp-deny-source-ports", "7,70000");

        Assert.Equal(2, code);
        Assert.Contains("--udp-deny-source-ports", stderr);
    }

    [Fact]
    public async Task ServeAppliesTheUdpFlags()
    {
        using var ordinary = new UdpTestClient();
        await using var serve = EchokitProcess.Start(["serve", "--udp", "127.0.0.1:0", "--udp-buffer", "65536",
            "--udp-rate-limit", "5", "--udp-deny-source-ports", $"{ordinary.LocalEndPoint.Port}"]);
        var port = await serve.WaitForListeningPortAsync();
        var target = new IPEndPoint(IPAddress.Loopback, port);

        // The client's port is denied now; another port is answered.
        using var other = new UdpTestClient();
        await ordinary.SendAsync("denied"u8.ToArray(), target);
        var (echo, _) = await other.ExchangeAsync("answered"u8.ToArray(), target);
        Assert.Equal("answered"u8.ToArray(), echo);
        // The listener logs the drop once it has handled the datagram: from then on no echo can still come.
        await serve.WaitForStdoutAsync($"udp 127.0.0.1:{ordinary.LocalEndPoint.Port} on udp://127.0.0.1:{port}: dropped");
        Assert.Equal(0, ordinary.Socket.Available);

        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    [Fact]
    public async Task ServeDropsDatagramsFromEveryPortOfTheConfigFilesDenyList()
    {
        using var first = new UdpTestClient();
        using var second = new UdpTestClient();
        using var other = new UdpTestClient();
        var path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, $$"""{"udp": ["127.0.0.1:0"], "udp-deny-source-ports": [{{first.LocalEndPoint.Port}}, {{second.LocalEndPoint.Port}}]}""");
        try
        {
            await using var serve = EchokitProcess.Start("serve", "--config", path);
            var port = await serve.WaitForListeningPortAsync();
            var target = new IPEndPoint(IPAddress.Loopback, port);

            await first.SendAsync("denied"u8.ToArray(), target);
            await second.SendAsync("denied"u8.ToArray(), target);
            var (echo, _) = await other.ExchangeAsync("answered"u8.ToArray(), target);

            Assert.Equal("answered"u8.ToArray(), echo);
            await serve.WaitForStdoutAsync($"udp 127.0.0.1:{first.LocalEndPoint.Port} on udp://127.0.0.1:{port}: dropped");
            await serve.WaitForStdoutAsync($"udp 127.0.0.1:{second.LocalEndPoint.Port} on udp://127.0.0.1:{port}: dropped");
            Assert.Equal(0, first.Socket.Available);
            Assert.Equal(0, second.Socket.Available);
            serve.Terminate();
            Assert.Equal(0, await serve.WaitForExitAsync());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AnExplicitRateLimitAppliesToLoopbackSources()
    {
        await using var serve = EchokitProcess.Start(["serve", "--udp", "127.0.0.1:0", "--udp-rate-limit", "2"]);
        var port = await serve.WaitForListeningPortAsync();
        var target = new IPEndPoint(IPAddress.Loopback, port);

        using var client = new UdpTestClient();
        for (var i = 0; i < 20; i++)
        {
            await client.SendAsync("burst"u8.ToArray(), target);
        }
        // The burst is two datagrams; the listener warns (in order with the other events, on stdout) when it starts dropping this loopback source.
        await serve.WaitForStdoutAsync("over 2 datagrams/s");

        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());
    }
}
