using System.Net;
using System.Net.Sockets;
using EchoKit.Server;

namespace EchoKit.Tests.Bench;

/// <summary>
/// Servers the bench tests load that the shared helpers do not provide: EchoKit's own on loopback, and a listener
/// whose backlog is full so that connecting times out. Misbehaving TCP servers (corrupting, delaying, silent) are
/// <see cref="Support.FakeServer"/>'s; a refused port is <see cref="Support.ClosedPort"/>.
/// </summary>
internal static class TestServers
{
    public static async Task<EchoServer> StartEchoServerAsync()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        var server = new EchoServer(options);
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    public static string Address(EchoServer server) => $"127.0.0.1:{server.Listeners[0].Port}";

    /// <summary>
    /// A listener that never accepts, with its backlog (0: one pending connection) already taken: Linux drops further
    /// SYNs, so a connect to <c>127.0.0.1:Port</c> neither succeeds nor is refused; it times out.
    /// </summary>
    public sealed class FullBacklog : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly Socket _filler = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public FullBacklog()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(0);
            _filler.Connect(_listener.LocalEndPoint!);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public void Dispose()
        {
            _filler.Dispose();
            _listener.Dispose();
        }
    }
}
