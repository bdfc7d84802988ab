using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Server;

namespace EchoKit.Tests.Production;

/// <summary>Client-side helpers: connect, echo, and observe a close, each bounded by a timeout.</summary>
public static class TestClients
{
    public static readonly TimeSpan Timeout = Support.TestTimeouts.Default;

    public static async Task<Socket> ConnectAsync(EndPoint endPoint)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint).WaitAsync(Timeout);
        return socket;
    }

    public static Task<Socket> ConnectAsync(BoundListener listener) => ConnectAsync(Loopback(listener));

    /// <summary>The listener's address with a wildcard replaced by loopback.</summary>
    public static EndPoint Loopback(BoundListener listener) => listener.EndPoint switch
    {
        IPEndPoint { Address: var a } ip when a.Equals(IPAddress.IPv6Any) => new IPEndPoint(IPAddress.IPv6Loopback, ip.Port),
        IPEndPoint { Address: var a } ip when a.Equals(IPAddress.Any) => new IPEndPoint(IPAddress.Loopback, ip.Port),
        var other => other,
    };

    /// <summary>Sends <paramref name="payload"/> and reads exactly as many bytes back.</summary>
    public static async Task<byte[]> EchoAsync(Stream stream, byte[] payload)
    {
        await stream.WriteAsync(payload).AsTask().WaitAsync(Timeout);
        var reply = new byte[payload.Length];
        await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(Timeout);
        return reply;
    }

    public static Task<byte[]> EchoAsync(Socket socket, byte[] payload) => EchoAsync(new NetworkStream(socket, ownsSocket: false), payload);

    /// <summary>True when the server closed the connection (EOF or reset) without sending anything.</summary>
    public static async Task<bool> ClosedWithoutDataAsync(Socket socket)
    {
        var buffer = new byte[64];
        try
        {
            var count = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Timeout);
            return count == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return true;
        }
    }

    public static async Task<SslStream> ConnectTlsAsync(EndPoint endPoint, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13, Socket? socket = null)
    {
        socket ??= await ConnectAsync(endPoint);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocols,
            // The test's self-signed certificate: trust it by identity, not by chain.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }).WaitAsync(Timeout);
        return tls;
    }
}
