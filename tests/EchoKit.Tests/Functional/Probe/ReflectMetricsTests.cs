using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Server.Reflect;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Probe;

/// <summary>
/// The reflect listeners' metrics: requests by result (answered, refused, unanswered), and under their own listener
/// tag the connection, byte and datagram instruments the echo listeners have.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class ReflectMetricsTests
{
    private static readonly byte[] Malformed = Encoding.ASCII.GetBytes("{\"v\":1,\"op\":\"nope\",\"pad\":\"" + new string('x', 300) + "\"}\n");

    [Fact]
    public async Task TcpReflectCountsItsConnectionAndEachRequestByResult()
    {
        using var recorder = new MeasurementRecorder();
        await using var server = await TestServer.StartAsync(options => options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0")));
        var bound = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp://", StringComparison.Ordinal));
        var listener = new Uri(bound.Uri);

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(bound.EndPoint, TestTimeouts.Token());
            await socket.SendAsync("{\"v\":1,\"op\":\"info\",\"id\":\"q1\"}\n"u8.ToArray(), SocketFlags.None);
            Assert.Contains("\"q1\"", await ReadLineAsync(socket), StringComparison.Ordinal);
            await socket.SendAsync(Malformed, SocketFlags.None);
            Assert.Contains("\"error\"", await ReadLineAsync(socket), StringComparison.Ordinal);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await socket.ReceiveAsync(new byte[1], SocketFlags.None, TestTimeouts.Token()));
        }
        await recorder.WaitForAsync(r => r.Count(EchoServerMetrics.ConnectionDuration, listener) == 1, TestTimeouts.Token());
        recorder.Collect();

        Assert.Equal(1, recorder.SumOfResult(EchoServerMetrics.ReflectRequests, listener, EchoServerMetrics.ReflectAnswered));
        Assert.Equal(1, recorder.SumOfResult(EchoServerMetrics.ReflectRequests, listener, EchoServerMetrics.ReflectRefused));
        Assert.Equal(1, recorder.Sum(EchoServerMetrics.ConnectionsAccepted, listener));
        Assert.Equal(1, recorder.CountOf(EchoServerMetrics.ConnectionDuration, listener, "closed_by_peer"));
        Assert.Equal(0, recorder.Last(EchoServerMetrics.ConnectionsActive, listener));
        Assert.Equal(30 + Malformed.Length, recorder.Last(EchoServerMetrics.BytesReceived, listener));
        Assert.True(recorder.Last(EchoServerMetrics.BytesSent, listener) > 0);
    }

    [Fact]
    public async Task TcpReflectCountsAConnectionOverItsLimitAsRejected()
    {
        using var recorder = new MeasurementRecorder();
        await using var server = await TestServer.StartAsync(options =>
        {
            options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Reflect.MaxConnections = 1;
        });
        var bound = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp://", StringComparison.Ordinal));
        var listener = new Uri(bound.Uri);
        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(bound.EndPoint, TestTimeouts.Token());
        await first.SendAsync("{\"v\":1,\"op\":\"info\"}\n"u8.ToArray(), SocketFlags.None);
        await ReadLineAsync(first); // the first connection holds the one slot

        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await second.ConnectAsync(bound.EndPoint, TestTimeouts.Token());
        await recorder.WaitForAsync(r => r.Sum(EchoServerMetrics.ConnectionsRejected, listener, EchoServerMetrics.RejectMaxConnections) == 1, TestTimeouts.Token());

        Assert.Equal(1, recorder.Sum(EchoServerMetrics.ConnectionsAccepted, listener));
    }

    [Fact]
    public async Task UdpReflectCountsRequestsByResultAndDropsByReason()
    {
        using var recorder = new MeasurementRecorder();
        using var denied = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        denied.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var server = await TestServer.StartAsync(options =>
        {
            options.Reflect.UdpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Udp.DenySourcePorts.Add(((IPEndPoint)denied.LocalEndPoint!).Port);
        });
        var bound = server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+udp://", StringComparison.Ordinal));
        var listener = new Uri(bound.Uri);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(bound.EndPoint);
        var info = new ReflectRequest(ReflectOperation.Info, "u1", 0, TimeSpan.Zero).ToLine(512);
        var buffer = new byte[2048];

        // One receive loop handles datagrams in the order they came: denied, too small for any answer, malformed, info.
        await denied.SendToAsync(info, SocketFlags.None, bound.EndPoint);
        await client.SendAsync("{\"v\":1,\"op\":\"info\"}\n"u8.ToArray(), SocketFlags.None);
        await client.SendAsync(Malformed, SocketFlags.None);
        await client.SendAsync(info, SocketFlags.None);
        Assert.Contains("\"error\"", Encoding.UTF8.GetString(buffer, 0, await client.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token())), StringComparison.Ordinal);
        Assert.Contains("\"u1\"", Encoding.UTF8.GetString(buffer, 0, await client.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token())), StringComparison.Ordinal);
        await recorder.WaitForAsync(r => r.Sum(EchoServerMetrics.ReflectRequests, listener) == 3, TestTimeouts.Token());
        recorder.Collect();

        Assert.Equal(1, recorder.SumOfResult(EchoServerMetrics.ReflectRequests, listener, EchoServerMetrics.ReflectAnswered));
        Assert.Equal(1, recorder.SumOfResult(EchoServerMetrics.ReflectRequests, listener, EchoServerMetrics.ReflectRefused));
        Assert.Equal(1, recorder.SumOfResult(EchoServerMetrics.ReflectRequests, listener, EchoServerMetrics.ReflectUnanswered));
        Assert.Equal(1, recorder.LastOf(EchoServerMetrics.DatagramsDropped, listener, EchoServerMetrics.DropDenied));
        Assert.Equal(2, recorder.Last(EchoServerMetrics.DatagramsAnswered, listener));
        Assert.Equal(512 + 20 + Malformed.Length + 512, recorder.Last(EchoServerMetrics.BytesReceived, listener));
    }

    private static Task<string> ReadLineAsync(Socket socket) => ReflectServiceTests.ReadLineAsync(socket);
}
