using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Support;

/// <summary>
/// A loopback port where nothing answers and sending is refused, held so that no parallel test can take the port
/// meanwhile (a port freed by a stopped server or a disposed socket could be bound again by another test at once).
/// </summary>
internal sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket;

    /// <summary>A TCP port that is bound but not listening: a connect is refused (RST).</summary>
    public ClosedPort()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    private ClosedPort(Socket socket) => _socket = socket;

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>
    /// A UDP port whose socket is connected to another peer (port 1): Linux delivers it nothing from anyone else and
    /// answers them ICMP port unreachable, as for a port nobody holds.
    /// </summary>
    public static ClosedPort Udp()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(new IPEndPoint(IPAddress.Loopback, 1));
        return new ClosedPort(socket);
    }

    public void Dispose() => _socket.Dispose();
}
