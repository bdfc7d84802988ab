using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Client;
using EchoKit.Client.Internal;

namespace EchoKit.Ping.Internal;

/// <summary>Opening probe sockets (with the source address) and turning their failures into outcomes, through the client's one classifier.</summary>
internal static class ProbeSockets
{
    public static Socket Create(EndPoint target, SocketType type, IPEndPoint? source)
    {
        var socket = target is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified)
            : new Socket(target.AddressFamily, type, type == SocketType.Dgram ? ProtocolType.Udp : ProtocolType.Tcp);
        try
        {
            if (type == SocketType.Stream && target is not UnixDomainSocketEndPoint)
            {
                socket.NoDelay = true;
            }
            if (source is not null)
            {
                if (source.Port != 0)
                {
                    // Each connect probe binds the same port again while the last one may be in TIME_WAIT.
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                }
                socket.Bind(source);
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens a stream connection and, when asked, the TLS session over it; the times are measured separately.</summary>
    public static async Task<(Socket Socket, Stream Stream, TimeSpan ConnectTime, TimeSpan? TlsTime)> ConnectAsync(
        EndPoint target, PingOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var socket = Create(target, SocketType.Stream, options.Source);
        try
        {
            var started = time.GetTimestamp();
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            var connectTime = time.GetElapsedTime(started);
            if (options.Tls is null)
            {
                return (socket, new NetworkStream(socket, ownsSocket: false), connectTime, null);
            }
            var handshakeStarted = time.GetTimestamp();
            var handshake = TlsHandshake.For(options.Tls, options.Endpoint?.Host);
            SslStream ssl = await handshake.AuthenticateAsync(socket, cancellationToken).ConfigureAwait(false);
            return (socket, ssl, connectTime, time.GetElapsedTime(handshakeStarted));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The outcome for a socket error: refused apart, everything else as the client reports it.</summary>
    public static ProbeOutcome Describe(SocketError error, EndPoint? target)
    {
        if (error == SocketError.ConnectionRefused)
        {
            return ProbeOutcome.Failed(PingStatus.Refused, "connection refused", target);
        }
        if (error == SocketError.TimedOut)
        {
            return ProbeOutcome.Failed(PingStatus.Timeout, "timed out", target);
        }
        return ProbeOutcome.Failed(PingStatus.Error, ClientErrors.Describe(error).Message, target);
    }

    /// <summary>A one-line reason for a failure of an established stream (plain or TLS).</summary>
    public static string Reason(Exception ex) => ex switch
    {
        SocketException socket => ClientErrors.Describe(socket.SocketErrorCode).Message,
        IOException { InnerException: SocketException socket } => ClientErrors.Describe(socket.SocketErrorCode).Message,
        AuthenticationException auth => auth.Message,
        _ => ex.Message.ReplaceLineEndings(" "),
    };
}
