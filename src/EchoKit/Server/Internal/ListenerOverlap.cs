using EchoKit.Endpoints;

namespace EchoKit.Server.Internal;

/// <summary>
/// Refuses two listeners of one server that would bind the same port: the same TCP or UDP port on the same host, or
/// on a wildcard and any host (Linux refuses a specific address beside a listening wildcard on one port, even with
/// SO_REUSEADDR), or one Unix socket path twice. Without this check the second bind fails with "address already in
/// use (another server is bound to it)", which points at another process; and a second Unix listener would connect
/// to the first one to see whether its file is stale. With <see cref="EchoServerOptions.ReusePort"/> a TCP or TLS
/// wildcard beside a specific host binds, so only the same endpoint given twice is refused there.
/// </summary>
internal static class ListenerOverlap
{
    private readonly record struct Listener(string Kind, bool Udp, bool MayReusePort, EndpointSpec Endpoint);

    public static void Validate(EchoServerOptions options)
    {
        var listeners = new List<Listener>();
        var unixPaths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in options.Endpoints)
        {
            switch (endpoint.Protocol)
            {
                case ListenProtocol.Unix when endpoint.UnixPath is { } path:
                    if (!unixPaths.Add(Path.GetFullPath(path)))
                    {
                        throw new ArgumentException($"the Unix listener {path} is given twice", nameof(options.Endpoints));
                    }
                    break;
                case ListenProtocol.Tcp or ListenProtocol.Tls:
                    listeners.Add(new(endpoint.Protocol == ListenProtocol.Tcp ? "tcp" : "tls", false, true, endpoint.Endpoint));
                    break;
                case ListenProtocol.Udp:
                    listeners.Add(new("udp", true, false, endpoint.Endpoint));
                    break;
            }
        }
        listeners.AddRange(options.Reflect.TcpEndpoints.Select(e => new Listener("reflect-tcp", false, false, e)));
        listeners.AddRange(options.Reflect.UdpEndpoints.Select(e => new Listener("reflect-udp", true, false, e)));
        for (var i = 0; i < listeners.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (Overlap(listeners[j], listeners[i], options.ReusePort))
                {
                    var (first, second) = (listeners[j], listeners[i]);
                    var same = SameHost(first.Endpoint, second.Endpoint) ? "the same address" : "a wildcard and an address on it";
                    throw new ArgumentException(
                        $"listeners {first.Kind} {first.Endpoint} and {second.Kind} {second.Endpoint} would both bind {(first.Udp ? "UDP" : "TCP")} port {first.Endpoint.Port} ({same})",
                        nameof(options.Endpoints));
                }
            }
        }
    }

    private static bool Overlap(Listener a, Listener b, bool reusePort)
    {
        if (a.Udp != b.Udp || a.Endpoint.Port == 0 || a.Endpoint.Port != b.Endpoint.Port)
        {
            return false;
        }
        if (SameHost(a.Endpoint, b.Endpoint))
        {
            return true;
        }
        var wildcard = a.Endpoint.IsWildcard || b.Endpoint.IsWildcard;
        return wildcard && !(reusePort && a.MayReusePort && b.MayReusePort);
    }

    private static bool SameHost(EndpointSpec a, EndpointSpec b) => string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);
}
