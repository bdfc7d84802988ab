using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Support;

/// <summary>
/// A listener that never accepts, with its backlog (0: one pending connection) already taken: Linux drops further
/// SYNs, so a connect to <c>127.0.0.1:Port</c> neither succeeds nor is refused; it times out.
/// </summary>
internal sealed class FullBacklog : IDisposable
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
