using System.Net;
using System.Net.Sockets;
using EchoKit.Server;

namespace EchoKit.Tests.Bench;

/// <summary>Servers the bench tests load: EchoKit's own, one that corrupts a byte, a UDP echo, a port nobody listens on.</summary>
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

    /// <summary>A port that was just free: connecting to it is refused.</summary>
    public static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
