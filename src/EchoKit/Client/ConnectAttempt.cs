using System.Net;
using System.Net.Sockets;

namespace EchoKit.Client;

/// <summary>One address a client tried, and why it failed: what <c>send -v</c> lists when nothing answered.</summary>
/// <param name="Address">The address tried (IP and port, or a Unix socket path).</param>
/// <param name="Error">The socket error it gave.</param>
public sealed record ConnectAttempt(EndPoint Address, SocketError Error)
{
    /// <summary><c>127.0.0.1:7: connection refused</c>.</summary>
    public override string ToString() => $"{EchoConnector.Format(Address)}: {ClientErrors.Describe(Error).Message}";
}
