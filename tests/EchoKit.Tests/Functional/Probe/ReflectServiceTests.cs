using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Server.Reflect;
using EchoKit.Testing;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Functional")]
public sealed class ReflectServiceTests
{
    private static async Task<(EchoTestServer Server, IPEndPoint Tcp, IPEndPoint Udp)> StartAsync(Action<EchoServerOptions>? configure = null, TimeProvider? time = null)
    {
        var server = await TestServer.StartAsync(options =>
        {
            options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Reflect.UdpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Reflect.InstanceId = "test-1";
            configure?.Invoke(options);
        }, time: time);
        var tcp = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp://", StringComparison.Ordinal));
        var udp = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+udp://", StringComparison.Ordinal));
        return (server, (IPEndPoint)tcp.EndPoint, (IPEndPoint)udp.EndPoint);
    }

    internal static async Task<string> ReadLineAsync(Socket socket)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await socket.ReceiveAsync(one, SocketFlags.None, TestTimeouts.Token()) == 1 && one[0] != '\n')
        {
            bytes.Add(one[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    [Fact]
    public async Task TcpReflectReportsTheClientAddressItSawAndTheInstanceId()
    {
        var (server, tcp, _) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tcp, TestTimeouts.Token());

        await socket.SendAsync("{\"v\":1,\"op\":\"info\",\"id\":\"q1\"}\n"u8.ToArray(), SocketFlags.None);
        var line = await ReadLineAsync(socket);

        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(line), out var report), line);
        Assert.Equal("q1", report.Id);
        Assert.Equal("test-1", report.Instance);
        Assert.Equal(EndpointResolver.FormatAddress((IPEndPoint)socket.LocalEndPoint!), report.Client);
        Assert.Equal(EndpointResolver.FormatAddress(tcp), report.Local);
        Assert.NotNull(report.Tcp);
        Assert.True(report.Tcp!.Mss > 0);
        Assert.NotNull(report.Syn?.Mss);
    }

    [Fact]
    public async Task TcpReflectReadsAProxyHeaderAndReportsIt()
    {
        var (server, tcp, _) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tcp, TestTimeouts.Token());

        await socket.SendAsync("PROXY TCP4 198.51.100.7 203.0.113.9 40000 7007\r\n{\"v\":1,\"op\":\"info\"}\n"u8.ToArray(), SocketFlags.None);
        var line = await ReadLineAsync(socket);

        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(line), out var report), line);
        Assert.Equal(IPEndPoint.Parse("198.51.100.7:40000"), report.Proxy?.Source);
        Assert.Equal(IPEndPoint.Parse("203.0.113.9:7007"), report.Proxy?.Destination);
    }

    [Fact]
    public async Task HoldAnswersOnlyOnceTheRequestedTimeHasPassed()
    {
        var time = new FakeTimeProvider();
        var (server, tcp, _) = await StartAsync(time: time);
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tcp, TestTimeouts.Token());
        await socket.SendAsync("{\"v\":1,\"op\":\"info\"}\n"u8.ToArray(), SocketFlags.None);
        await ReadLineAsync(socket); // the connection is being served: the next request is read at once

        await socket.SendAsync("{\"v\":1,\"op\":\"hold\",\"after_ms\":30000}\n"u8.ToArray(), SocketFlags.None);
        var answer = ReadLineAsync(socket);
        await TestTimeouts.WaitUntilAsync(() => { time.Advance(TimeSpan.FromSeconds(1)); return answer.IsCompleted; }, "the held answer", TimeSpan.FromSeconds(20));

        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(await answer), out var report));
        Assert.InRange(report.HeldMilliseconds!.Value, 30000, 60000);
    }

    /// <summary>Requests that once threw past the parser: a string or name not valid UTF-8, a version not an Int32.</summary>
    public static TheoryData<string> MalformedRequests() => new()
    {
        "{\"id\":\"\\xff\"}", "{\"\\xff\":1}", "{\"op\":\"\\xff\"}", "{\"v\":1.5}", "{\"v\":99999999999}",
    };

    /// <summary>The request's text with each <c>\xff</c> written as that raw byte (not valid UTF-8), then padding to fit the answer.</summary>
    private static byte[] Malformed(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text.AsSpan(i).StartsWith("\\xff"))
            {
                bytes.Add(0xff);
                i += 3;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }
        bytes.RemoveAt(bytes.Count - 1); // the closing brace: padding goes first
        bytes.AddRange(Encoding.ASCII.GetBytes(",\"pad\":\"" + new string('x', 300) + "\"}\n"));
        return bytes.ToArray();
    }

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task AMalformedUdpRequestGetsAnErrorAndTheListenerServesOn(string request)
    {
        // One such datagram used to end the UDP reflect listener's receive loop for good (found by black-box QA).
        var (server, _, udp) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(udp);
        var buffer = new byte[70000];

        await socket.SendAsync(Malformed(request), SocketFlags.None);
        var count = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.True(ReflectReport.TryParse(buffer.AsSpan(0, count - 1), out var refused));
        Assert.NotNull(refused.Error);

        await socket.SendAsync(new ReflectRequest(ReflectOperation.Info, "next", 0, TimeSpan.Zero).ToLine(400), SocketFlags.None);
        count = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.True(ReflectReport.TryParse(buffer.AsSpan(0, count - 1), out var answered));
        Assert.Equal("next", answered.Id);
        Assert.Null(answered.Error);
    }

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task AMalformedTcpRequestGetsAnErrorAndTheConnectionServesOn(string request)
    {
        var (server, tcp, _) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tcp, TestTimeouts.Token());

        await socket.SendAsync(Malformed(request), SocketFlags.None);
        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(await ReadLineAsync(socket)), out var refused));
        Assert.NotNull(refused.Error);

        await socket.SendAsync("{\"v\":1,\"op\":\"info\",\"id\":\"next\"}\n"u8.ToArray(), SocketFlags.None);
        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(await ReadLineAsync(socket)), out var answered));
        Assert.Equal("next", answered.Id);
        Assert.Empty(server.Log.Named("ReflectConnectionFault"));
    }

    [Fact]
    public async Task ErrorAnswersCarryTheRequestsIdOverTcpAndUdp()
    {
        var (server, tcp, udp) = await StartAsync();
        await using var _s = server;
        using var stream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await stream.ConnectAsync(tcp, TestTimeouts.Token());
        using var datagrams = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        datagrams.Connect(udp);
        var request = Encoding.ASCII.GetBytes("{\"v\":1,\"op\":\"bogus\",\"id\":\"q7\",\"pad\":\"" + new string('x', 300) + "\"}\n");

        await stream.SendAsync(request, SocketFlags.None);
        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(await ReadLineAsync(stream)), out var overTcp));
        await datagrams.SendAsync(request, SocketFlags.None);
        var buffer = new byte[4096];
        var count = await datagrams.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.True(ReflectReport.TryParse(buffer.AsSpan(0, count - 1), out var overUdp));

        Assert.Equal(("q7", "unknown op (expected info, echo or hold)"), (overTcp.Id, overTcp.Error));
        Assert.Equal(("q7", "unknown op (expected info, echo or hold)"), (overUdp.Id, overUdp.Error));
    }

    [Fact]
    public async Task TcpEchoOverTheSizeLimitIsRefusedNamingTheLimit()
    {
        var (server, tcp, _) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tcp, TestTimeouts.Token());

        await socket.SendAsync("{\"v\":1,\"op\":\"echo\",\"id\":\"big\",\"size\":70000}\n"u8.ToArray(), SocketFlags.None);
        Assert.True(ReflectReport.TryParse(Encoding.UTF8.GetBytes(await ReadLineAsync(socket)), out var refused));

        Assert.Equal(("big", "size over this server's limit of 65536"), (refused.Id, refused.Error));
    }

    [Fact]
    public async Task UdpAnswerIsNeverLargerThanItsRequest()
    {
        var (server, _, udp) = await StartAsync();
        await using var _s = server;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(udp);
        var buffer = new byte[70000];

        // Requests too short to hold even an error get nothing; short ones asking for a large echo get at most
        // their own size back (no amplification). One receive loop answers in order, so the first datagram back
        // belongs to the second request: the first got none.
        var tiny = "{\"v\":1,\"op\":\"echo\",\"size\":9000}\n"u8.ToArray();
        var small = new ReflectRequest(ReflectOperation.Echo, null, 9000, TimeSpan.Zero).ToLine(80);
        await socket.SendAsync(tiny, SocketFlags.None);
        await socket.SendAsync(small, SocketFlags.None);
        var count = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.True(count <= small.Length, $"answer {count} bytes to a {small.Length}-byte request");
        Assert.Contains("pad the request", Encoding.UTF8.GetString(buffer, 0, count));

        // A padded request gets its full answer, with the datagram's size and TTL as received.
        var padded = new ReflectRequest(ReflectOperation.Echo, "e", 1200, TimeSpan.Zero).ToLine(1200);
        await socket.SendAsync(padded, SocketFlags.None);
        count = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.Equal(1200, count);
        Assert.True(ReflectReport.TryParse(buffer.AsSpan(0, count - 1), out var report));
        Assert.Equal(1200, report.DatagramSize);
        Assert.Equal(64, report.Ttl);
        Assert.Equal(EndpointResolver.FormatAddress((IPEndPoint)socket.LocalEndPoint!), report.Client);
    }

    [Theory]
    [InlineData(":0", "127.0.0.2")]
    [InlineData(":0", "127.0.0.1")]
    [InlineData(":0", "::1")]
    [InlineData("0.0.0.0:0", "127.0.0.2")]
    public async Task WildcardUdpReflectAnswersFromAndReportsTheAddressTheRequestWasSentTo(string endpoint, string sentTo)
    {
        // On a host with several addresses the route's choice of source was not the address the client sent to: the
        // client dropped the answer, and the report said the wildcard ([::]:port) as its local address.
        await using var server = await TestServer.StartAsync(options => options.Reflect.UdpEndpoints.Add(EndpointParser.Parse(endpoint)));
        var listener = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+udp://", StringComparison.Ordinal));
        var target = new IPEndPoint(IPAddress.Parse(sentTo), ((IPEndPoint)listener.EndPoint).Port);
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        var any = new IPEndPoint(target.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var buffer = new byte[2048];

        // An answer at once, and a held one (sent later, from another thread).
        foreach (var request in new[] { new ReflectRequest(ReflectOperation.Info, "now", 0, TimeSpan.Zero), new ReflectRequest(ReflectOperation.Hold, "held", 0, TimeSpan.Zero) })
        {
            await socket.SendToAsync(request.ToLine(512), SocketFlags.None, target);
            var answer = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, TestTimeouts.Token());

            Assert.Equal(target, answer.RemoteEndPoint);
            Assert.True(ReflectReport.TryParse(buffer.AsSpan(0, answer.ReceivedBytes - 1), out var report));
            Assert.Equal(request.Id, report.Id);
            Assert.Null(report.Error);
            Assert.Equal(EndpointResolver.FormatAddress(target), report.Local);
            Assert.Equal(EndpointResolver.FormatAddress((IPEndPoint)socket.LocalEndPoint!), report.Client);
        }
    }

    [Fact]
    public async Task UdpReflectIgnoresDatagramsFromDeniedSourcePorts()
    {
        using var denied = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        denied.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var deniedPort = ((IPEndPoint)denied.LocalEndPoint!).Port;
        var (server, _, udp) = await StartAsync(options => options.Udp.DenySourcePorts.Add(deniedPort));
        await using var _s = server;
        using var allowed = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var request = new ReflectRequest(ReflectOperation.Info, "x", 0, TimeSpan.Zero).ToLine(512);

        await denied.SendToAsync(request, SocketFlags.None, udp);
        await allowed.SendToAsync(request, SocketFlags.None, udp);
        var buffer = new byte[2048];
        var answer = await allowed.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeouts.Token());

        // One receive loop handles datagrams in order: the denied one was handled (dropped) before the allowed one.
        Assert.True(answer.ReceivedBytes > 0);
        Assert.Equal(0, denied.Available);
    }

    [Fact]
    public async Task ReflectListenersAloneDoNotOpenTheDefaultEchoPort()
    {
        var options = new EchoServerOptions();
        options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
        await using var server = new EchoServer(options);
        await server.StartAsync(TestTimeouts.Token());

        var listener = Assert.Single(server.Listeners);
        Assert.StartsWith("reflect+tcp://127.0.0.1:", listener.Uri);
    }
}
