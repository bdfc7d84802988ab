using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Server;
using EchoKit.Server.Internal;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoKit.Tests.Server;

/// <summary>
/// A client whose connect completed just before a graceful stop may still sit in the kernel's accept queue: it is
/// connected as far as it knows, and may already have sent data. Closing the listener would reset it; the stop
/// accepts and serves it instead. Here the listener is bound but its accept loop never runs, so the clients are
/// certainly queued when the stop comes (through the server the race is lost only now and then).
/// </summary>
[Trait("Kind", "Functional")]
public sealed class AcceptQueueAtStopTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoppingAListenerServesTheClientsStillInItsAcceptQueue(bool epoll)
    {
        var options = new EchoServerOptions();
        var tracker = new ConnectionTracker(TimeProvider.System);
        using var instruments = new ServerInstruments();
        var context = new ServerContext(options, NullLogger.Instance, TimeProvider.System, tracker, instruments);
        var engine = epoll ? new EpollEngine(1, options.ReceiveBufferSize, NullLogger.Instance) : null;
        // An address of its own in 127/8: once this listener closes, its ephemeral port is free, and another test's
        // listener on 127.0.0.1 could take it and answer the late connect below (one CI run in sixteen saw that).
        var address = new IPAddress([127, 83, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255)]);
        var listener = TcpEchoListener.Bind(new IPEndPoint(address, 0), false, ListenEndpoint.Tcp($"{address}:0"), context, null, engine);
        var port = ((IPEndPoint)listener.Bound.EndPoint).Port;
        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                await client.ConnectAsync(new IPEndPoint(address, port), TestTimeouts.Token());
                await SocketIo.SendAllAsync(client, Encoding.ASCII.GetBytes($"sent before the stop {i}"));
            }
            Assert.Equal(0, tracker.Count); // queued, not accepted

            listener.StopAccepting();

            Assert.Equal(3, tracker.Count);
            Assert.ThrowsAny<SocketException>(() =>
            {
                using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                late.Connect(new IPEndPoint(address, port));
            });
            for (var i = 0; i < clients.Count; i++)
            {
                var expected = $"sent before the stop {i}";
                Assert.Equal(expected, Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(clients[i], expected.Length)));
                clients[i].Shutdown(SocketShutdown.Send);
                Assert.Empty(await SocketIo.ReceiveToEndAsync(clients[i]));
            }
            await tracker.WhenAllClosed().WaitAsync(TestTimeouts.Default);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            tracker.AbortAll();
            await tracker.WhenAllClosed().WaitAsync(TestTimeouts.Default);
            await listener.DisposeAsync();
            tracker.Dispose();
            engine?.Dispose();
        }
    }
}
