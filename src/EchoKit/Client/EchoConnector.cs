using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Client;

/// <summary>Opens a TCP connection to an endpoint, trying each address a name resolves to in turn.</summary>
public static class EchoConnector
{
    /// <summary>
    /// Connects to <paramref name="endpoint"/> (no host means this machine). Throws <see cref="SocketException"/>
    /// with the last address's error when none accepts, or <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<Socket> ConnectTcpAsync(EndpointSpec endpoint, CancellationToken cancellationToken)
    {
        var addresses = await EndpointResolver.ResolveForConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Formats a socket's address for messages: <c>127.0.0.1:50007</c>, <c>[::1]:50007</c>.</summary>
    public static string Format(EndPoint? endPoint) => EndpointResolver.FormatEndPoint(endPoint);
}
