using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Operations;

/// <summary><c>serve --otlp</c>: the same instruments, pushed to an OpenTelemetry collector (here a one-request fake).</summary>
[Trait("Kind", "Cli")]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task ServePushesItsMetricsOverOtlpHttpWhenItStops()
    {
        using var collector = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        collector.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        collector.Listen(4);
        var collectorPort = ((IPEndPoint)collector.LocalEndPoint!).Port;

        await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--otlp", $"http://127.0.0.1:{collectorPort}/v1/metrics");
        var port = await serve.WaitForListeningPortAsync();
        Assert.Equal(0, (await EchokitProcess.RunAsync("send", $"127.0.0.1:{port}", "otlp")).ExitCode);
        serve.Terminate();

        // The last export happens on the way out; the first request is enough.
        using var request = await collector.AcceptAsync(TestTimeouts.Token());
        var (head, body) = await ReadRequestAsync(request);
        await request.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None);

        Assert.StartsWith("POST /v1/metrics HTTP/1.1", head, StringComparison.Ordinal);
        Assert.Contains("application/x-protobuf", head, StringComparison.OrdinalIgnoreCase);
        var text = Encoding.Latin1.GetString(body);
        Assert.Contains("echokit", text, StringComparison.Ordinal);
        Assert.Contains("EchoKit.Server", text, StringComparison.Ordinal);
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    [Fact]
    public async Task ServeRefusesAnOtlpEndpointThatIsNotAUrl()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync("serve", "--otlp", "collector:4317");

        Assert.Equal(2, code);
        Assert.Contains("--otlp", stderr, StringComparison.Ordinal);
    }

    private static async Task<(string Head, byte[] Body)> ReadRequestAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[8192];
        var token = TestTimeouts.Token();
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(received)) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
            Assert.True(read > 0, "the exporter closed before its request head ended");
            received.AddRange(buffer.AsSpan(0, read));
        }
        var head = Encoding.ASCII.GetString(received.GetRange(0, headEnd).ToArray());
        var lengthLine = head.Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        while (received.Count < headEnd + 4 + length)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
            Assert.True(read > 0, "the exporter closed before its request body ended");
            received.AddRange(buffer.AsSpan(0, read));
        }
        return (head, received.GetRange(headEnd + 4, length).ToArray());
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }
}
