using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary><c>echokit connect</c> over TCP, run as a process with piped stdin and stdout.</summary>
[Trait("Kind", "Cli")]
public sealed class ConnectTcpTests
{
    [Fact]
    public async Task ConnectEchoesThreeLinesAndExitsZeroSoonAfterInputEnds()
    {
        await using var server = ScriptedTcpServer.StartEcho();
        await using var connect = EchokitProcess.Start(["connect", server.Endpoint]);

        await connect.WriteAsync("one\n");
        await connect.WaitForStdoutAsync("one\n"); // printed while input is still open: both directions at once
        await connect.WriteAsync("two\nthree\n");
        await connect.WaitForStdoutAsync("three\n");
        var ended = Stopwatch.StartNew();
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("one\ntwo\nthree\n", connect.Stdout);
        Assert.Equal("", connect.Stderr);
        Assert.True(ended.Elapsed < TimeSpan.FromSeconds(3), $"exit took {ended.Elapsed} after the end of input");
        await server.Completion.WaitAsync(TestTimeouts.Default); // the server saw our half-close and finished
    }

    [Fact]
    public async Task ConnectPrintsGreetingFirstAndSendsCrlfOnTheWire()
    {
        var wire = new MemoryStream();
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            // Greet before the client says anything, as SMTP does; then answer each CRLF line.
            await SocketIo.SendAllAsync(socket, "220 test ESMTP ready\r\n"u8.ToArray(), token);
            var buffer = new byte[1024];
            var pending = new List<byte>();
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, token);
                if (read == 0)
                {
                    return;
                }
                wire.Write(buffer, 0, read);
                pending.AddRange(buffer.AsSpan(0, read));
                int end;
                while ((end = IndexOfCrlf(pending)) >= 0)
                {
                    var line = Encoding.ASCII.GetString(pending.GetRange(0, end).ToArray());
                    pending.RemoveRange(0, end + 2);
                    if (line == "QUIT")
                    {
                        await SocketIo.SendAllAsync(socket, "221 bye\r\n"u8.ToArray(), token);
                        socket.Shutdown(SocketShutdown.Both);
                        return;
                    }
                    await SocketIo.SendAllAsync(socket, Encoding.ASCII.GetBytes($"250 ok {line}\r\n"), token);
                }
            }
        });
        await using var connect = EchokitProcess.Start(["connect", "--crlf", server.Endpoint]);

        await connect.WaitForStdoutAsync("220 test ESMTP ready\r\n"); // before we typed anything
        await connect.WriteAsync("HELO me\n");
        await connect.WaitForStdoutAsync("250 ok HELO me\r\n");
        await connect.WriteAsync("MAIL FROM:<a@b>\r\nQUIT\n"); // a CRLF already there stays one CRLF
        // The server closes after QUIT while our input is still open: that is a clean end.
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("220 test ESMTP ready\r\n250 ok HELO me\r\n250 ok MAIL FROM:<a@b>\r\n221 bye\r\n", connect.Stdout);
        await server.Completion.WaitAsync(TestTimeouts.Default);
        Assert.Equal("HELO me\r\nMAIL FROM:<a@b>\r\nQUIT\r\n", Encoding.ASCII.GetString(wire.ToArray()));
    }

    [Fact]
    public async Task ConnectSendsBareLineFeedsWithoutCrlf()
    {
        var wire = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var received = new MemoryStream();
            var buffer = new byte[1024];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
            wire.SetResult(Encoding.ASCII.GetString(received.ToArray()));
        });
        await using var connect = EchokitProcess.Start(["connect", server.Endpoint]);

        await connect.WriteAsync("HELO me\nQUIT\n");
        connect.CloseInput();

        Assert.Equal("HELO me\nQUIT\n", await wire.Task.WaitAsync(TestTimeouts.Default));
        Assert.Equal(0, await connect.WaitForExitAsync());
    }

    [Fact]
    public async Task ConnectExitsZeroWhenServerClosesFirstWhileInputStaysOpen()
    {
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            await SocketIo.SendAllAsync(socket, "bye for now\n"u8.ToArray(), token);
            socket.Shutdown(SocketShutdown.Both);
        });
        await using var connect = EchokitProcess.Start(["connect", "-v", server.Endpoint]);

        // Input is never closed: the end comes from the server.
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("bye for now\n", connect.Stdout);
        Assert.Contains("(peer closed)", connect.Stderr);
    }

    [Fact]
    public async Task ConnectReportsResetByServerInOneLineAndExitsOne()
    {
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            await SocketIo.SendAllAsync(socket, "x\n"u8.ToArray(), token);
            socket.LingerState = new LingerOption(true, 0); // close with RST
            socket.Close();
        });
        await using var connect = EchokitProcess.Start(["connect", server.Endpoint]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: {server.Endpoint}: connection reset by peer\n", connect.Stderr);
    }

    [Fact]
    public async Task ConnectReportsRefusedConnectionInOneLine()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port; // bound but never listening: connecting is refused
            await using var connect = EchokitProcess.Start(["connect", $"127.0.0.1:{port}"]);
            var code = await connect.WaitForExitAsync();

            Assert.Equal(1, code);
            Assert.Equal($"echokit: 127.0.0.1:{port}: connection refused\n", connect.Stderr);
            Assert.Equal("", connect.Stdout);
        }
    }

    [Fact]
    public async Task ConnectVerbosePrintsAddressesAndByteCountsOnStderrOnly()
    {
        await using var server = ScriptedTcpServer.StartEcho();
        await using var connect = EchokitProcess.Start(["connect", "-v", server.Endpoint]);

        await connect.WriteAsync("ping\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("ping\n", connect.Stdout);
        Assert.Matches($@"connected 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:{server.Port} \(tcp\) in [\d.]+ ms", connect.Stderr);
        Assert.Contains("sent FIN (half-close)", connect.Stderr);
        Assert.Matches(@"\(peer closed\): sent 5 B, received 5 B, in \d+ ms", connect.Stderr);
    }

    [Fact]
    public async Task ConnectVerboseListsTheAddressesThatFailedBeforeTheConnectionInSendsWords()
    {
        // ":PORT" is 127.0.0.1 first, then ::1; the server is on ::1 alone.
        await using var server = await TestServer.StartAsync(endpoint: "[::1]:0");
        await using var connect = EchokitProcess.Start(["connect", "-v", $":{server.Port}"]);

        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.True(code == 0, connect.Stderr);
        var tried = connect.Stderr.IndexOf($"tried 127.0.0.1:{server.Port}: connection refused\n", StringComparison.Ordinal);
        var connected = connect.Stderr.IndexOf($"-> [::1]:{server.Port} (tcp)", StringComparison.Ordinal);
        Assert.True(tried >= 0 && connected > tried, connect.Stderr);
    }

    [Fact]
    public async Task ConnectVerboseGivesAConnectionThatNeverOpenedNoClosedLine()
    {
        using var closed = new ClosedPort();
        await using var connect = EchokitProcess.Start(["connect", "-v", $"127.0.0.1:{closed.Port}"]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: 127.0.0.1:{closed.Port}: connection refused\n", connect.Stderr[connect.Stderr.IndexOf("echokit:", StringComparison.Ordinal)..]);
        Assert.Contains($"tried 127.0.0.1:{closed.Port}: connection refused\n", connect.Stderr);
        Assert.DoesNotContain("closed", connect.Stderr);
        Assert.DoesNotContain("ConnectionRefused", connect.Stderr);
    }

    [Fact]
    public async Task ConnectGivesUpAfterIdleTimeout()
    {
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[16];
            while (await socket.ReceiveAsync(buffer, token) > 0)
            {
                // A silent server: reads, never answers.
            }
        });
        await using var connect = EchokitProcess.Start(["connect", "--idle-timeout", "400ms", server.Endpoint]);

        await connect.WriteAsync("anyone?\n");
        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: {server.Endpoint}: idle for 400ms\n", connect.Stderr);
    }

    [Fact]
    public async Task ConnectEndsAtOnceOnSigint()
    {
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[16];
            while (await socket.ReceiveAsync(buffer, token) > 0)
            {
                // Silent: only Ctrl+C can end this session.
            }
        });
        await using var connect = EchokitProcess.Start(["connect", "-v", server.Endpoint]);
        await connect.WaitForStderrAsync("connected ");

        var interrupted = Stopwatch.StartNew();
        connect.Interrupt();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(130, code);
        Assert.True(interrupted.Elapsed < TimeSpan.FromSeconds(3), $"took {interrupted.Elapsed} to stop");
        Assert.EndsWith("echokit: interrupted\n", connect.Stderr);
        Assert.Contains("(interrupted)", connect.Stderr); // the -v summary still came out
        // The server sees our side close: its receive ends with 0 (or a reset), not a hang.
        await server.Completion.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task ConnectNoShutdownKeepsOurSideOpenAfterInputEnds()
    {
        var inputEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[64];
            var read = await socket.ReceiveAsync(buffer, token);
            await SocketIo.SendAllAsync(socket, buffer.AsMemory(0, read), token);
            // The client has handled the end of its input (it said so): a FIN would be here by now (loopback queues it
            // at once), and with --no-shutdown there must be none: nothing readable, not even the end of the stream.
            await inputEnded.Task.WaitAsync(token);
            var sawFin = socket.Poll(0, SelectMode.SelectRead);
            await SocketIo.SendAllAsync(socket, sawFin ? "got FIN\n"u8.ToArray() : "no FIN\n"u8.ToArray(), token);
            socket.Shutdown(SocketShutdown.Both);
        });
        await using var connect = EchokitProcess.Start(["connect", "--no-shutdown", "-v", server.Endpoint]);

        await connect.WriteAsync("hi\n");
        connect.CloseInput();
        await connect.WaitForStderrAsync("input ended after 3 B; not half-closing");
        inputEnded.SetResult();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("hi\nno FIN\n", connect.Stdout);
    }

    [Fact]
    public async Task ConnectGivesUpWhenTlsHandshakeExceedsWait()
    {
        await using var server = ScriptedTcpServer.Start(async (socket, token) =>
        {
            var buffer = new byte[4096];
            while (await socket.ReceiveAsync(buffer, token) > 0)
            {
                // Accepts the connection, swallows the ClientHello, never answers.
            }
        });
        await using var connect = EchokitProcess.Start(["connect", "--tls", "--wait", "2s", server.Endpoint]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: {server.Endpoint}: TLS handshake not done within 2s\n", connect.Stderr);
    }

    [Fact]
    public async Task ConnectTakesABarePortAsThisMachine()
    {
        await using var server = ScriptedTcpServer.StartEcho();
        await using var connect = EchokitProcess.Start(["connect", "-v", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        await connect.WriteAsync("local\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.Equal("local\n", connect.Stdout);
        Assert.Contains($"-> 127.0.0.1:{server.Port} (tcp)", connect.Stderr);
    }

    [Theory]
    [InlineData("--ca", "x.pem")]
    [InlineData("--insecure")]
    [InlineData("--udp", "--tls")]
    [InlineData("--hex", "--encoding", "latin1")]
    [InlineData("--timeout", "1s")]
    public async Task ConnectRejectsConflictingOptionsWithUsageError(params string[] args)
    {
        await using var connect = EchokitProcess.Start(["connect", .. args, "127.0.0.1:9"]);

        var code = await connect.WaitForExitAsync();

        Assert.Equal(2, code);
        Assert.StartsWith("echokit connect: ", connect.Stderr);
        Assert.Single(connect.Stderr.TrimEnd('\n').Split('\n'));
    }

    private static int IndexOfCrlf(List<byte> bytes)
    {
        for (var i = 0; i + 1 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n')
            {
                return i;
            }
        }
        return -1;
    }
}
