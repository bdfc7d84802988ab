using System.Net.Sockets;
using System.Text;
using EchoKit.Cli.Observability;
using EchoKit.Endpoints;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Operations;

/// <summary>The small HTTP responder in-process: probes follow their callbacks, bad requests are bounded.</summary>
[Trait("Kind", "Functional")]
public sealed class MetricsHttpServerTests
{
    private volatile bool _ready;

    private MetricsHttpServer Create(TimeProvider? time = null, int maxConnections = MetricsHttpServer.MaxConnections) => new(
        () => _ready,
        (stream, ct) => stream.WriteAsync("metric_total 1\n"u8.ToArray(), ct).AsTask(),
        NullLogger.Instance,
        time,
        maxConnections: maxConnections);

    private static async Task<Uri> StartAsync(MetricsHttpServer server)
    {
        await server.StartAsync(EndpointParser.Parse("127.0.0.1:0"), CancellationToken.None);
        return new Uri(server.Listeners.Single().Uri);
    }

    [Fact]
    public async Task ReadyzFollowsTheReadinessOfTheServer()
    {
        await using var server = Create();
        var uri = await StartAsync(server);

        Assert.Equal(503, (await MetricsEndpointTests.HttpGetAsync(uri, "/readyz")).Status);
        _ready = true;
        Assert.Equal(200, (await MetricsEndpointTests.HttpGetAsync(uri, "/readyz")).Status);
        _ready = false;
        Assert.Equal(503, (await MetricsEndpointTests.HttpGetAsync(uri, "/readyz")).Status);
        Assert.Equal(200, (await MetricsEndpointTests.HttpGetAsync(uri, "/healthz")).Status);
    }

    [Fact]
    public async Task MetricsBodyIsWhatTheExporterWrites()
    {
        await using var server = Create();
        var uri = await StartAsync(server);

        var answer = await MetricsEndpointTests.HttpGetAsync(uri, "/metrics");

        Assert.Equal(200, answer.Status);
        Assert.Equal("metric_total 1\n", answer.Body);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", answer.ContentType);
    }

    [Fact]
    public async Task HeadGetsHeadersWithoutBody()
    {
        await using var server = Create();
        var uri = await StartAsync(server);

        var text = await RawAsync(uri, "HEAD /metrics HTTP/1.1\r\n\r\n"u8.ToArray());

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", text);
        Assert.Contains("Content-Length: 15\r\n", text);
        Assert.EndsWith("\r\n\r\n", text);
    }

    [Fact]
    public async Task OversizedRequestHeadGets431()
    {
        await using var server = Create();
        var uri = await StartAsync(server);
        var huge = Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nX-Big: " + new string('a', MetricsHttpServer.MaxRequestHeadBytes) + "\r\n\r\n");

        var text = await RawAsync(uri, huge);

        Assert.StartsWith("HTTP/1.1 431 ", text);
    }

    [Fact]
    public async Task GarbageRequestIsClosedWithoutAnswer()
    {
        await using var server = Create();
        var uri = await StartAsync(server);

        var text = await RawAsync(uri, "\x16\x03\x01 hello\r\n\r\n"u8.ToArray());

        Assert.Equal("", text);
        Assert.Equal(200, (await MetricsEndpointTests.HttpGetAsync(uri, "/healthz")).Status); // and the server lives on
    }

    [Fact]
    public async Task ClientThatNeverFinishesItsRequestHeadIsClosedAfterTheHeaderTimeout()
    {
        var time = new FakeTimeProvider();
        await using var server = Create(time);
        var uri = await StartAsync(server);
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /metrics HTTP/1.1\r\n"u8.ToArray());
        // The deadline starts at accept: once the server holds the connection, the clock can move past it.
        await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == 1, "the server to hold the connection");

        time.Advance(MetricsHttpServer.DefaultHeaderTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, server.OpenConnections);
        time.Advance(TimeSpan.FromMilliseconds(1));

        // Closed: an end of stream, or a reset if the deadline came before the server had read the bytes.
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[64]).AsTask().WaitAsync(TestTimeouts.Default));
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
        await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == 0, "the server to let the connection go");
    }

    [Fact]
    public async Task ProbesAreAnsweredWhileAThousandSlowClientsHoldConnections()
    {
        _ready = true;
        // A clock that stands still: however slowly this machine opens 1,000 connections, none reaches its header timeout.
        await using var server = Create(new FakeTimeProvider());
        var uri = await StartAsync(server);
        var slow = new List<Socket>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                slow.Add(socket);
                await socket.ConnectAsync(uri.Host, uri.Port);
                await socket.SendAsync("G"u8.ToArray()); // a request begun, never finished
            }
            await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == 1000, "the server to hold 1,000 slow connections");

            Assert.StartsWith("HTTP/1.1 200 OK", await RawAsync(uri, "GET /healthz HTTP/1.1\r\n\r\n"u8.ToArray()));
            Assert.StartsWith("HTTP/1.1 200 OK", await RawAsync(uri, "GET /readyz HTTP/1.1\r\n\r\n"u8.ToArray()));
            // The slow ones are all still held: the probes pushed nobody out.
            await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == 1000, "the probes' connections to close");
            Assert.All(slow, s => Assert.True(s.Connected));
        }
        finally
        {
            slow.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task AtTheLimitTheOldestUnfinishedRequestGivesWayToTheProbe()
    {
        await using var server = Create(new FakeTimeProvider(), maxConnections: 8);
        var uri = await StartAsync(server);
        var slow = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                slow.Add(socket);
                await socket.ConnectAsync(uri.Host, uri.Port);
                await socket.SendAsync("G"u8.ToArray());
                await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == i + 1, "the server to hold the connection");
            }

            Assert.StartsWith("HTTP/1.1 200 OK", await RawAsync(uri, "GET /healthz HTTP/1.1\r\n\r\n"u8.ToArray()));

            // The first (oldest) slow client was closed for it; the others are untouched. Closed means a FIN, or an
            // RST when its "G" was still unread in the server's receive buffer at the close (the kernel's choice).
            try
            {
                var read = await slow[0].ReceiveAsync(new byte[16]).WaitAsync(TestTimeouts.Default);
                Assert.Equal(0, read);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
            }
            await TestTimeouts.WaitUntilAsync(() => server.OpenConnections == 7, "the probe's connection to close");
        }
        finally
        {
            slow.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task StopClosesTheListener()
    {
        var server = Create();
        var uri = await StartAsync(server);

        await server.DisposeAsync();

        using var client = new TcpClient();
        var error = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(uri.Host, uri.Port));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    private static async Task<string> RawAsync(Uri uri, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read all of an oversized request.
        }
        client.Client.Shutdown(SocketShutdown.Send);
        return Encoding.ASCII.GetString(await MetricsEndpointTests.ReadToEndAsync(stream));
    }
}
