using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Server.Internal;

namespace EchoKit.Server;

/// <summary>
/// The one bind helper: resolves an endpoint, binds every address it resolves to, and gives all of them one port
/// when port 0 was asked for (the first socket's ephemeral port). The echo server binds its listeners through it;
/// a program that serves something else beside an echo server (the <c>echokit</c> metrics endpoint) uses
/// <see cref="ListenAsync"/> to bind the same way, with the same errors.
/// </summary>
public static class ListenerBinding
{
    /// <summary>
    /// Binds a listening TCP socket on every address <paramref name="endpoint"/> resolves to, with SO_REUSEADDR (a
    /// restarted server binds at once while old connections sit in TIME_WAIT); an IPv6 wildcard accepts IPv4 too.
    /// The caller owns the sockets (accept with <see cref="AcceptLoop"/>, dispose to stop).
    /// </summary>
    /// <param name="endpoint">What to bind; a host name may resolve to several addresses.</param>
    /// <param name="scheme">The URI scheme errors name the address with, e.g. <c>http</c>.</param>
    /// <param name="backlog">Connections the kernel queues before they are accepted.</param>
    /// <param name="cancellationToken">Cancels the name resolution.</param>
    /// <returns>The bound sockets, in resolution order; all on the same port.</returns>
    /// <exception cref="ListenerBindException">An address could not be bound or listened on; nothing is left open.</exception>
    /// <exception cref="ListenerBindException">The host name does not resolve either (<see cref="ListenerBindException.SocketError"/> HostNotFound).</exception>
    public static Task<IReadOnlyList<Socket>> ListenAsync(EndpointSpec endpoint, string scheme, int backlog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        return BindEachAsync(
            endpoint,
            scheme,
            (address, dualStack) => ListenSockets.Listen(address, dualStack, scheme, backlog),
            socket => ((IPEndPoint)socket.LocalEndPoint!).Port,
            socket =>
            {
                socket.Dispose();
                return ValueTask.CompletedTask;
            },
            cancellationToken);
    }

    /// <summary>
    /// Resolves <paramref name="endpoint"/> and calls <paramref name="bind"/> for each address (with whether it is a
    /// dual-stack wildcard); after the first, each address gets the port the previous one bound, so a name with port 0
    /// ends up on one port. If a bind fails, those already bound are disposed and the exception goes on. A name that
    /// does not resolve is a <see cref="ListenerBindException"/> too, naming the listener as <c>SCHEME://ENDPOINT</c>.
    /// </summary>
    internal static async Task<IReadOnlyList<T>> BindEachAsync<T>(EndpointSpec endpoint, string scheme, Func<IPEndPoint, bool, T> bind, Func<T, int> boundPort,
        Func<T, ValueTask> dispose, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> addresses;
        try
        {
            addresses = await EndpointResolver.ResolveForListenAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            var listener = $"{scheme}://{endpoint.Text}";
            var reason = SocketErrors.Classify(ex.SocketErrorCode) == EchoKit.Internal.SocketErrorKind.HostNotFound ? "host not found" : ex.Message;
            throw new ListenerBindException(listener, ex.SocketErrorCode, $"cannot listen on {listener}: cannot resolve '{endpoint.Host}': {reason}", ex);
        }
        var bound = new List<T>(addresses.Count);
        var port = endpoint.Port;
        try
        {
            foreach (var address in addresses)
            {
                var target = new IPEndPoint(address.Address, port);
                var item = bind(target, EndpointResolver.IsDualStackWildcard(endpoint, target));
                bound.Add(item);
                port = boundPort(item);
            }
        }
        catch
        {
            foreach (var item in bound)
            {
                await dispose(item).ConfigureAwait(false);
            }
            throw;
        }
        return bound;
    }
}
