using System.Net;
using System.Net.Sockets;

namespace EchoKit.Endpoints;

/// <summary>Turns parsed endpoints into socket addresses, through DNS when the host is a name.</summary>
public static class EndpointResolver
{
    /// <summary>
    /// The addresses a server binds for <paramref name="endpoint"/>. A wildcard gives one dual-stack IPv6 socket
    /// (<c>[::]</c> accepting IPv4 too) where the OS supports IPv6, else IPv4 any. A name gives every address it
    /// resolves to, without duplicates.
    /// </summary>
    public static async Task<IReadOnlyList<IPEndPoint>> ResolveForListenAsync(EndpointSpec endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Host is null)
        {
            return [new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, endpoint.Port)];
        }
        var addresses = await ResolveHostAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        return addresses.Distinct().Select(a => new IPEndPoint(a, endpoint.Port)).ToArray();
    }

    /// <summary>
    /// The addresses a client tries, in order, for <paramref name="endpoint"/>; no host means this machine.
    /// Throws <see cref="SocketException"/> (HostNotFound) when a name does not resolve.
    /// </summary>
    public static async Task<IReadOnlyList<IPEndPoint>> ResolveForConnectAsync(EndpointSpec endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Host is null)
        {
            return Socket.OSSupportsIPv6
                ? [new IPEndPoint(IPAddress.Loopback, endpoint.Port), new IPEndPoint(IPAddress.IPv6Loopback, endpoint.Port)]
                : [new IPEndPoint(IPAddress.Loopback, endpoint.Port)];
        }
        var addresses = await ResolveHostAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        return addresses.Distinct().Select(a => new IPEndPoint(a, endpoint.Port)).ToArray();
    }

    /// <summary>True when <paramref name="endpoint"/> is the "all interfaces" wildcard, which a server binds dual-stack.</summary>
    public static bool IsDualStackWildcard(EndpointSpec endpoint, IPEndPoint bound) =>
        endpoint.Host is null && bound.Address.Equals(IPAddress.IPv6Any);

    /// <summary>Formats an address as a URI: <c>tcp://127.0.0.1:43121</c>, <c>udp://[::1]:7</c>.</summary>
    public static string FormatUri(string scheme, EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => $"{scheme}://{FormatAddress(ip)}",
        UnixDomainSocketEndPoint unix => $"{scheme}://{unix}",
        _ => $"{scheme}://{endPoint}",
    };

    /// <summary>
    /// Formats any socket address for messages: IP as <see cref="FormatAddress"/> does, a Unix socket as its path,
    /// <see langword="null"/> as <c>unknown</c>.
    /// </summary>
    public static string FormatEndPoint(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip => FormatAddress(ip),
        null => "unknown",
        UnixDomainSocketEndPoint unix when string.IsNullOrEmpty(unix.ToString()) || unix.ToString()![0] == '\0' => "unnamed",
        _ => endPoint.ToString() ?? "unknown",
    };

    /// <summary>Formats an IP endpoint as <c>host:port</c>, with IPv6 in brackets and IPv4-mapped IPv6 shown as IPv4.</summary>
    public static string FormatAddress(IPEndPoint endPoint)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{address}]:{endPoint.Port}"
            : $"{address}:{endPoint.Port}";
    }

    private static async Task<IPAddress[]> ResolveHostAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        return addresses;
    }
}
