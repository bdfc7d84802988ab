using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class ProxyProtocolServerTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private static EchoServerOptions Proxied(TimeSpan? headerTimeout = null)
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0") with { UseProxyProtocol = true });
        if (headerTimeout is { } timeout)
        {
            options.ProxyProtocol.HeaderTimeout = timeout;
        }
        return options;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public async Task V1HeaderGivesTheRealClientAddressAndIsNotEchoed()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);

        // Header and first data in one write, as proxies send them.
        await client.SendAsync(Ascii("PROXY TCP4 203.0.113.7 10.0.0.1 4242 7\r\nhello"));
        var reply = new byte[5];
        await new NetworkStream(client).ReadExactlyAsync(reply).AsTask().WaitAsync(TestClients.Timeout);
        Assert.Equal("hello"u8.ToArray(), reply);
        Assert.Equal("world"u8.ToArray(), await TestClients.EchoAsync(client, "world"u8.ToArray()));

        var opened = await logs.WaitForAsync("ConnectionOpened");
        Assert.Equal("203.0.113.7:4242", opened.Field("Remote"));
        var accepted = await logs.WaitForAsync("ProxyHeaderAccepted");
        Assert.StartsWith("127.0.0.1:", accepted.Field("Proxy"));

        client.Shutdown(SocketShutdown.Send);
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));
        var closed = await logs.WaitForAsync("ConnectionClosed");
        Assert.Equal("203.0.113.7:4242", closed.Field("Remote"));
        Assert.Equal(10L, closed.Fields["BytesIn"]);
    }

    [Fact]
    public async Task V2HeaderSentByteByByteGivesTheRealIpv6Client()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        client.NoDelay = true;

        byte[] tlv = [0x02, 0x00, 0x03, (byte)'a', (byte)'.', (byte)'b'];
        foreach (var b in ProxyHeaderParserTests.V2Inet("2001:db8::42", 5555, "2001:db8::1", 7, tlv))
        {
            await client.SendAsync(new[] { b });
        }
        Assert.Equal("after"u8.ToArray(), await TestClients.EchoAsync(client, "after"u8.ToArray()));
        Assert.Equal("[2001:db8::42]:5555", (await logs.WaitForAsync("ConnectionOpened")).Field("Remote"));
    }

    [Fact]
    public async Task V2LocalKeepsTheSocketAddress()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await client.SendAsync(ProxyHeaderParserTests.V2(0, 0x00, []));
        Assert.Equal("health"u8.ToArray(), await TestClients.EchoAsync(client, "health"u8.ToArray()));
        var local = (IPEndPoint)client.LocalEndPoint!;
        Assert.Equal($"127.0.0.1:{local.Port}", (await logs.WaitForAsync("ConnectionOpened")).Field("Remote"));
    }

    [Theory]
    [InlineData("hello world\r\n", "no PROXY header")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "bad port")]
    [InlineData("PROXY SCTP 1.2.3.4 5.6.7.8 1 2\r\n", "protocol is not")]
    public async Task BadHeaderClosesTheConnectionWithALoggedReason(string sent, string reason)
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await client.SendAsync(Ascii(sent));
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));
        var rejected = await logs.WaitForAsync("ProxyHeaderRejected");
        Assert.Contains(reason, rejected.Field("Error"));
        Assert.StartsWith("127.0.0.1:", rejected.Field("Remote"));
        Assert.Equal(server.Listeners[0].Uri, rejected.Field("Listener"));
        Assert.Equal(1, server.Rejections.ProxyHeader);
        Assert.Empty(logs.Named("ConnectionOpened"));
    }

    [Fact]
    public async Task OversizedV2HeaderIsRefusedBeforeItsBodyArrives()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await client.SendAsync(ProxyHeaderParserTests.V2(1, 0x11, [], declaredLength: 60000));
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));
        Assert.Contains("longer than 536 bytes", (await logs.WaitForAsync("ProxyHeaderRejected")).Field("Error"));
    }

    [Fact]
    public async Task TruncatedHeaderIsRefused()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await client.SendAsync(Ascii("PROXY TCP4 1.2.3.4 "));
        client.Shutdown(SocketShutdown.Send);
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));
        Assert.Contains("truncated", (await logs.WaitForAsync("ProxyHeaderRejected")).Field("Error"));
    }

    [Fact]
    public async Task ClientThatSendsNothingIsClosedAfterTheHeaderTimeout()
    {
        var logs = TestServer.Logs();
        var headerTimeout = TimeSpan.FromMilliseconds(200);
        var time = new TimerSignalingTimeProvider(headerTimeout);
        await using var server = await TestServer.StartServerAsync(Engine, Proxied(headerTimeout), logs, time);
        using var silent = await TestClients.ConnectAsync(server.Listeners[0]);
        using var slow = await TestClients.ConnectAsync(server.Listeners[0]);
        await slow.SendAsync(Ascii("PROXY TCP4"));
        // Both deadlines exist and the slow client's bytes are read: only then does the fake clock cross them.
        await time.WhenStartedAsync(2);
        await Faults.LoopbackQueues.WaitUntilServerReadAllAsync(slow);
        time.Fake.Advance(headerTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(0, server.Rejections.ProxyHeader);
        time.Fake.Advance(TimeSpan.FromTicks(1));

        Assert.True(await TestClients.ClosedWithoutDataAsync(silent));
        Assert.True(await TestClients.ClosedWithoutDataAsync(slow));
        var errors = new[]
        {
            (await logs.WaitForAsync("ProxyHeaderRejected", e => e.Field("Error").StartsWith("no header", StringComparison.Ordinal))).Field("Error"),
            (await logs.WaitForAsync("ProxyHeaderRejected", e => e.Field("Error").StartsWith("header incomplete", StringComparison.Ordinal))).Field("Error"),
        };
        Assert.Equal(["no header within 0.2s", "header incomplete after 0.2s"], errors);
        Assert.Equal(2, server.Rejections.ProxyHeader);
    }

    [Fact]
    public async Task ProxyHeaderWorksOnUnixListeners()
    {
        var path = TestServer.UnixPath();
        try
        {
            var logs = TestServer.Logs();
            var options = new EchoServerOptions();
            options.Endpoints.Add(ListenEndpoint.Unix(path) with { UseProxyProtocol = true });
            await using var server = await TestServer.StartServerAsync(Engine, options, logs);
            using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(path));
            await client.SendAsync(Ascii("PROXY TCP6 2001:db8::9 2001:db8::1 1000 7\r\n"));
            Assert.Equal("unix"u8.ToArray(), await TestClients.EchoAsync(client, "unix"u8.ToArray()));
            Assert.Equal("[2001:db8::9]:1000", (await logs.WaitForAsync("ConnectionOpened")).Field("Remote"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public async Task ProxyHeaderPrecedesTheTlsHandshake()
    {
        using var certificates = new TestCertificates();
        var logs = TestServer.Logs();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0") with { UseProxyProtocol = true });
        options.Tls.Certificate = certificates.Load();
        await using var server = await TestServer.StartServerAsync(options, logs); // TLS only: always served by sockets

        var socket = await TestClients.ConnectAsync(server.Listeners[0]);
        await socket.SendAsync(Ascii("PROXY TCP4 198.51.100.20 10.0.0.1 40000 443\r\n"));
        await using var tls = await TestClients.ConnectTlsAsync(server.Listeners[0].EndPoint, socket: socket);
        Assert.Equal("secure"u8.ToArray(), await TestClients.EchoAsync(tls, "secure"u8.ToArray()));
        Assert.Equal("198.51.100.20:40000", (await logs.WaitForAsync("ConnectionOpened")).Field("Remote"));
    }

    [Fact]
    public async Task ListenersWithoutTheFlagTreatAHeaderAsData()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, TestServer.Tcp(), logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        var header = Ascii("PROXY TCP4 203.0.113.7 10.0.0.1 4242 7\r\n");
        Assert.Equal(header, await TestClients.EchoAsync(client, header));
        Assert.StartsWith("127.0.0.1:", (await logs.WaitForAsync("ConnectionOpened")).Field("Remote"));
    }
}
