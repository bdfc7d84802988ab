using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary><c>echokit connect --udp</c>: one datagram per line, replies printed, a bounded wait after input ends.</summary>
[Trait("Kind", "Cli")]
public sealed class ConnectUdpTests
{
    [Fact]
    public async Task ConnectUdpSendsEachLineAsOneDatagramAndPrintsLateReplies()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var datagrams = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var inputEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var echo = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            var replies = new List<(byte[] Data, EndPoint To)>();
            while (replies.Count < 3)
            {
                var got = await server.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                datagrams.Enqueue(Encoding.UTF8.GetString(buffer, 0, got.ReceivedBytes));
                replies.Add((buffer[..got.ReceivedBytes], got.RemoteEndPoint));
            }
            // Answer only once the client says its input has ended: ncat's UDP client would be gone by now.
            await inputEnded.Task.WaitAsync(stop.Token);
            foreach (var (data, to) in replies)
            {
                await server.SendToAsync(data, to, stop.Token);
            }
        });
        // --timeout is how long replies are awaited after the input ends (the same real clock the process runs on);
        // the replies come as soon as the client says so, so it only needs to outlast a busy machine's pause.
        await using var connect = EchokitProcess.Start(["connect", "--udp", "--timeout", "3s", "-v", $"127.0.0.1:{port}"]);

        await connect.WriteAsync("one\ntwo\nthree\n");
        connect.CloseInput();
        await connect.WaitForStderrAsync("input ended after 14 B; printing datagrams until none comes");
        inputEnded.SetResult();
        var code = await connect.WaitForExitAsync();
        await echo.WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, code);
        Assert.Equal(["one\n", "two\n", "three\n"], datagrams.ToArray());
        Assert.Equal("one\ntwo\nthree\n", connect.Stdout);
        Assert.Contains("sent 3 datagram(s), 14 B; received 3 datagram(s), 14 B", connect.Stderr);
    }

    [Fact]
    public async Task ConnectUdpEndsAfterTimeoutWhenNoReplyComes()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, so no ICMP refusal, but it never answers
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        await using var connect = EchokitProcess.Start(["connect", "--udp", "--timeout", "300ms", $"127.0.0.1:{port}"]);

        await connect.WriteAsync("hello?");
        var ended = Stopwatch.StartNew();
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.Equal(0, code);
        Assert.True(ended.Elapsed >= TimeSpan.FromMilliseconds(300), $"ended after {ended.Elapsed}, before the timeout");
        var buffer = new byte[64];
        var read = server.Receive(buffer); // the last line had no newline and was still sent
        Assert.Equal("hello?", Encoding.UTF8.GetString(buffer, 0, read));
        Assert.Equal("", connect.Stdout);
    }

    [Fact]
    public async Task ConnectUdpReportsRefusedWhenNothingListens()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        await using var connect = EchokitProcess.Start(["connect", "--udp", "--timeout", "5s", $"127.0.0.1:{port}"]);

        await connect.WriteAsync("ping\n");
        var code = await connect.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Equal($"echokit: 127.0.0.1:{port}: connection refused (ICMP port unreachable: nothing listens on that UDP port)\n", connect.Stderr);
    }

    [Fact]
    public async Task ConnectUdpMovesToTheNamesNextAddressWhenTheFirstIsRefusedAsSendDoes()
    {
        // ":PORT" is 127.0.0.1 first, then ::1 (as localhost is often ::1 first, then 127.0.0.1): the server is on ::1
        // alone, so the first address answers the first datagram with ICMP port unreachable.
        await using var server = await TestServer.StartUdpAsync(endpoints: "[::1]:0");
        var port = server.Port;
        await using var connect = EchokitProcess.Start(["connect", "--udp", "--timeout", "1s", "-v", $":{port}"]);

        await connect.WriteAsync("one\ntwo\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();

        Assert.True(code == 0, connect.Stderr);
        Assert.Equal("one\ntwo\n", connect.Stdout); // each line once, sent again to ::1
        Assert.Contains($"tried 127.0.0.1:{port}: connection refused\n", connect.Stderr);
        Assert.Contains($"-> [::1]:{port} (udp)", connect.Stderr);
        Assert.Contains("received 2 datagram(s), 8 B", connect.Stderr);
    }

    [Fact]
    public async Task ConnectUdpHexDumpsEachDatagramFromOffsetZero()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var echo = Task.Run(async () =>
        {
            var buffer = new byte[64];
            for (var i = 0; i < 2; i++)
            {
                var got = await server.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0));
                await server.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
            }
        });
        await using var connect = EchokitProcess.Start(["connect", "--udp", "--hex", "--timeout", "1s", $"127.0.0.1:{port}"]);

        await connect.WriteAsync("ab\n");
        await connect.WaitForStdoutAsync("|ab.|\n");
        await connect.WriteAsync("c\n");
        connect.CloseInput();
        var code = await connect.WaitForExitAsync();
        await echo.WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, code);
        Assert.Equal(
            "00000000  61 62 0a                                          |ab.|\n" +
            "00000000  63 0a                                             |c.|\n",
            connect.Stdout);
    }
}
