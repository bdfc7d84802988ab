using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Support;

/// <summary>
/// A loopback port that is bound but not listening, so connecting to it is refused, and no parallel test can
/// take the port meanwhile (a port freed by a stopped server could be bound again by another test at once).
/// </summary>
internal sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ClosedPort() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Dispose() => _socket.Dispose();
}
