using System.Net;
using System.Net.Sockets;

namespace EchoKit.Client;

/// <summary>
/// How a client reaches its server, shared by every client (<see cref="EchoExchange"/>, <see cref="UdpExchange"/>,
/// <see cref="InteractiveClient"/>): over a Unix domain socket instead of IP, only IPv4 or only IPv6 (ping's
/// <c>-4</c>/<c>-6</c>), and from which local address (<c>--source</c>). The defaults reach the endpoint as given.
/// </summary>
public sealed class ClientTransport
{
    /// <summary>Connect to the Unix domain stream socket at this path instead of the endpoint's address. Default null (IP).</summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>
    /// Try only addresses of this family: <see cref="AddressFamily.InterNetwork"/> (IPv4) or
    /// <see cref="AddressFamily.InterNetworkV6"/> (IPv6). Default <see cref="AddressFamily.Unspecified"/>: every
    /// address the name resolves to, in the resolver's order.
    /// </summary>
    public AddressFamily AddressFamily { get; set; } = AddressFamily.Unspecified;

    /// <summary>Bind to this local address (and port, unless 0) before connecting. Default null: the kernel chooses.</summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> when the settings contradict each other.</summary>
    public void Validate()
    {
        if (AddressFamily is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("address family must be IPv4, IPv6 or unspecified", nameof(AddressFamily));
        }
        if (UnixSocketPath is not null)
        {
            if (UnixSocketPath.Length == 0)
            {
                throw new ArgumentException("the Unix socket path is empty", nameof(UnixSocketPath));
            }
            if (AddressFamily != AddressFamily.Unspecified || LocalEndPoint is not null)
            {
                throw new ArgumentException("a Unix socket has no IP version or source address", nameof(UnixSocketPath));
            }
        }
        if (LocalEndPoint is { } local && AddressFamily != AddressFamily.Unspecified && Normalize(local.Address).AddressFamily != AddressFamily)
        {
            throw new ArgumentException($"source address {local.Address} is not {(AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")}", nameof(LocalEndPoint));
        }
    }

    internal static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
