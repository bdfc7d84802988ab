using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Operations;

/// <summary><c>echokit serve --metrics</c> run as a process: scrape, probes, and readiness through a SIGTERM drain.</summary>
[Trait("Kind", "Cli")]
public sealed partial class MetricsEndpointTests
{
    [Fact]
    public async Task ScrapeAfterEchoTrafficShowsCountersMovedForThatListener()
    {
        await using var server = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--log-format", "json"]);
        var listeners = await server.WaitForListenersAsync(2);
        var http = listeners.Single(u => u.Scheme == "http");
        var tcp = listeners.Single(u => u.Scheme == "tcp");
        var before = await HttpGetAsync(http, "/metrics");
        Assert.Equal(200, before.Status);
        Assert.Equal(0, Sample(before.Body, "echokit_server_connections_accepted_total", tcp));

        for (var i = 0; i < 2; i++)
        {
            await EchoAsync(tcp, "hello metrics"u8.ToArray());
            // The server logs the close after updating its metrics: wait for it rather than sleeping.
            await server.WaitForLineAsync(ClosedLine());
        }
        var after = await HttpGetAsync(http, "/metrics");

        Assert.Equal(200, after.Status);
        Assert.StartsWith("text/plain; version=0.0.4", after.ContentType);
        Assert.Contains("# TYPE echokit_server_connections_accepted_total counter", after.Body);
        Assert.Equal(2, Sample(after.Body, "echokit_server_connections_accepted_total", tcp));
        Assert.Equal(26, Sample(after.Body, "echokit_server_received_bytes_total", tcp));
        Assert.Equal(26, Sample(after.Body, "echokit_server_sent_bytes_total", tcp));
        Assert.Equal(0, Sample(after.Body, "echokit_server_connections_active", tcp));
        Assert.Equal(2, Sample(after.Body, "echokit_server_connection_duration_seconds_count", tcp, "reason=\"closed_by_peer\""));
        Assert.Contains("dotnet_gc_collections_total", after.Body);
        // The program's own counter, beside the server's: stdout kept up, so no log line was dropped.
        Assert.Contains("\nechokit_server_log_lines_dropped_total 0\n", after.Body);
    }

    [Fact]
    public async Task ActiveConnectionsGaugeCountsOpenClients()
    {
        await using var server = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
        var listeners = await server.WaitForListenersAsync(2);
        var http = listeners.Single(u => u.Scheme == "http");
        var tcp = listeners.Single(u => u.Scheme == "tcp");

        using var client = new TcpClient();
        await client.ConnectAsync(tcp.Host, tcp.Port);
        await server.WaitForLineAsync(OnlineLine());
        var scrape = await HttpGetAsync(http, "/metrics");

        Assert.Equal(1, Sample(scrape.Body, "echokit_server_connections_active", tcp));
    }

    [Fact]
    public async Task HealthzIsAliveAndUnknownPathsAndMethodsAreRefused()
    {
        await using var server = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
        var http = (await server.WaitForListenersAsync(2)).Single(u => u.Scheme == "http");

        Assert.Equal((200, "ok\n"), Pick(await HttpGetAsync(http, "/healthz")));
        Assert.Equal((200, "ready\n"), Pick(await HttpGetAsync(http, "/readyz")));
        Assert.Equal(404, (await HttpGetAsync(http, "/nothing")).Status);
        Assert.Equal(405, (await HttpGetAsync(http, "/metrics", method: "POST")).Status);
        Assert.Equal(200, (await HttpGetAsync(http, "/metrics?x=1")).Status);
    }

    [Fact]
    public async Task ReadyzTurnsUnavailableTheMomentShutdownBeginsWhileMetricsStillServe()
    {
        await using var server = EchokitProcess.Start(["serve", "--tcp", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--shutdown-timeout", "20s"]);
        var listeners = await server.WaitForListenersAsync(2);
        var http = listeners.Single(u => u.Scheme == "http");
        var tcp = listeners.Single(u => u.Scheme == "tcp");
        Assert.Equal(200, (await HttpGetAsync(http, "/readyz")).Status);

        // An open connection keeps the server draining after SIGTERM, so the probe can be asked mid-drain.
        using var client = new TcpClient();
        await client.ConnectAsync(tcp.Host, tcp.Port);
        await server.WaitForLineAsync(OnlineLine());
        server.Terminate();
        await server.WaitForLineAsync(ShutdownLine());

        var ready = await HttpGetAsync(http, "/readyz");
        var alive = await HttpGetAsync(http, "/healthz");
        var scrape = await HttpGetAsync(http, "/metrics");

        Assert.Equal((503, "not ready\n"), Pick(ready));
        Assert.Equal(200, alive.Status);
        Assert.Equal(1, Sample(scrape.Body, "echokit_server_connections_active", tcp));

        // The client still gets its echo while draining, then leaves and the server exits cleanly.
        var stream = client.GetStream();
        await stream.WriteAsync("still here"u8.ToArray());
        client.Client.Shutdown(SocketShutdown.Send);
        Assert.Equal("still here", Encoding.UTF8.GetString(await ReadToEndAsync(stream)));
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task MetricsPortInUseFailsTheStartWithExitOne()
    {
        using var taken = new TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--tcp", "127.0.0.1:0", "--metrics", $"127.0.0.1:{port}"]);

        Assert.Equal(1, code);
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}: address already in use", stderr);
        Assert.DoesNotContain("listening tcp://", stdout);
    }

    internal static async Task EchoAsync(Uri tcp, byte[] message)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(tcp.Host, tcp.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(message);
        client.Client.Shutdown(SocketShutdown.Send);
        Assert.Equal(message, await ReadToEndAsync(stream));
    }

    internal static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, timeout.Token);
        return buffer.ToArray();
    }

    internal static async Task<HttpAnswer> HttpGetAsync(Uri http, string path, string method = "GET")
    {
        using var client = new TcpClient();
        await client.ConnectAsync(http.Host, http.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{method} {path} HTTP/1.1\r\nHost: {http.Authority}\r\nUser-Agent: test\r\n\r\n"));
        var text = Encoding.UTF8.GetString(await ReadToEndAsync(stream));
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no head in: {text}");
        var head = text[..split].Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var contentType = head.FirstOrDefault(h => h.StartsWith("Content-Type: ", StringComparison.Ordinal))?["Content-Type: ".Length..] ?? "";
        var length = int.Parse(head.Single(h => h.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var body = text[(split + 4)..];
        Assert.Equal(length, Encoding.UTF8.GetByteCount(body));
        return new HttpAnswer(status, contentType, body);
    }

    /// <summary>The value of one sample: <paramref name="name"/> whose labels include the listener (and <paramref name="extraLabel"/>).</summary>
    internal static double Sample(string exposition, string name, Uri listener, string? extraLabel = null)
    {
        var uri = $"{listener.Scheme}://{listener.Authority}";
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains($"listener=\"{uri}\"", StringComparison.Ordinal)
                && (extraLabel is null || line.Contains(extraLabel, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new Xunit.Sdk.XunitException($"no sample {name} for {uri} in:\n{exposition}");
    }

    private static (int, string) Pick(HttpAnswer answer) => (answer.Status, answer.Body);

    internal sealed record HttpAnswer(int Status, string ContentType, string Body);

    [GeneratedRegex(@"""event"":""ConnectionClosed""")]
    private static partial Regex ClosedLine();

    [GeneratedRegex(@"online .* on tcp://")]
    private static partial Regex OnlineLine();

    [GeneratedRegex(@"shutting down")]
    private static partial Regex ShutdownLine();
}
