using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Client;

/// <summary>Opens a client's socket to an endpoint, trying each address a name resolves to in turn: the one connect loop of every client.</summary>
public static class EchoConnector
{
    /// <summary>
    /// Connects to <paramref name="endpoint"/> (no host means this machine). Throws <see cref="SocketException"/>
    /// with the last address's error when none accepts, or <see cref="OperationCanceledException"/>.
    /// </summary>
    public static Task<Socket> ConnectTcpAsync(EndpointSpec endpoint, CancellationToken cancellationToken) =>
        ConnectAsync(endpoint, new ClientTransport(), SocketType.Stream, null, cancellationToken);

    /// <summary>
    /// Opens a <paramref name="socketType"/> socket (stream: TCP or Unix; datagram: UDP, connected to the peer) to
    /// <paramref name="endpoint"/> over <paramref name="transport"/>. Every failed address is added to
    /// <paramref name="attempts"/> when given. Throws <see cref="SocketException"/> with the last address's error
    /// when none accepts (<see cref="SocketError.AddressFamilyNotSupported"/> when the name has no address of the
    /// family asked for), or <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<Socket> ConnectAsync(EndpointSpec endpoint, ClientTransport transport, SocketType socketType, ICollection<ConnectAttempt>? attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(transport);
        transport.Validate();
        if (transport.UnixSocketPath is { } path)
        {
            return await ConnectOneAsync(new UnixDomainSocketEndPoint(path), null, socketType, attempts, cancellationToken).ConfigureAwait(false)
                ?? throw new SocketException((int)(attempts?.LastOrDefault()?.Error ?? SocketError.ConnectionRefused));
        }
        SocketError last = SocketError.HostNotFound;
        foreach (var address in await ResolveAsync(endpoint, transport, cancellationToken).ConfigureAwait(false))
        {
            if (await ConnectOneAsync(address, transport.LocalEndPoint, socketType, attempts, cancellationToken, e => last = e).ConfigureAwait(false) is { } socket)
            {
                return socket;
            }
        }
        throw new SocketException((int)last);
    }

    /// <summary>
    /// The addresses an IP client tries for <paramref name="endpoint"/>, in order: those of the family asked for (by
    /// -4/-6, or a source address's), v4-mapped ones as IPv4. Throws <see cref="SocketException"/> when the name does
    /// not resolve, or (<see cref="SocketError.AddressFamilyNotSupported"/>) has no address of that family.
    /// </summary>
    internal static async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(EndpointSpec endpoint, ClientTransport transport, CancellationToken cancellationToken)
    {
        var resolved = await EndpointResolver.ResolveForConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var family = transport.LocalEndPoint is { } local && transport.AddressFamily == AddressFamily.Unspecified
            ? ClientTransport.Normalize(local.Address).AddressFamily // a source address decides the family
            : transport.AddressFamily;
        var addresses = resolved
            .Select(a => ClientTransport.Normalize(a.Address) is var ip && ip.AddressFamily != a.AddressFamily ? new IPEndPoint(ip, a.Port) : a)
            .Where(a => family == AddressFamily.Unspecified || a.AddressFamily == family)
            .ToArray();
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.AddressFamilyNotSupported);
    }

    /// <summary>
    /// Opens a <paramref name="socketType"/> socket to one address (from <paramref name="local"/> when given); null when
    /// that address fails with a socket error, which is added to <paramref name="attempts"/>. A Unix socket's error is
    /// thrown instead: there is no other address to try.
    /// </summary>
    internal static async Task<Socket?> ConnectOneAsync(EndPoint address, IPEndPoint? local, SocketType socketType, ICollection<ConnectAttempt>? attempts, CancellationToken cancellationToken, Action<SocketError>? failed = null)
    {
        var protocol = address is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : socketType == SocketType.Dgram ? ProtocolType.Udp : ProtocolType.Tcp;
        var socket = new Socket(address.AddressFamily, socketType, protocol);
        try
        {
            if (protocol == ProtocolType.Tcp)
            {
                socket.NoDelay = true;
            }
            if (local is not null)
            {
                socket.Bind(new IPEndPoint(ClientTransport.Normalize(local.Address), local.Port));
            }
            // For UDP, connect() only fixes the peer: sends go there, only its datagrams are received, and an ICMP
            // "port unreachable" comes back as ECONNREFUSED on the next receive.
            await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            attempts?.Add(new ConnectAttempt(address, ex.SocketErrorCode));
            failed?.Invoke(ex.SocketErrorCode);
            if (address is UnixDomainSocketEndPoint)
            {
                throw;
            }
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Formats a socket's address for messages: <c>127.0.0.1:50007</c>, <c>[::1]:50007</c>, <c>/run/echo.sock</c>.</summary>
    public static string Format(EndPoint? endPoint) => EndpointResolver.FormatEndPoint(endPoint);
}
