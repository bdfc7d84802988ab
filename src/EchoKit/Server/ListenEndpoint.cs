using EchoKit.Endpoints;

namespace EchoKit.Server;

/// <summary>One listener to open: a protocol and where to bind it.</summary>
/// <param name="Protocol">The transport.</param>
/// <param name="Endpoint">Where to bind; a wildcard host binds every interface, IPv4 and IPv6.</param>
public sealed record ListenEndpoint(ListenProtocol Protocol, EndpointSpec Endpoint)
{
    /// <summary>A TCP listener on <paramref name="endpoint"/> (any form <see cref="EndpointParser"/> accepts).</summary>
    public static ListenEndpoint Tcp(string endpoint) => new(ListenProtocol.Tcp, EndpointParser.Parse(endpoint));

    /// <summary>A UDP listener on <paramref name="endpoint"/> (any form <see cref="EndpointParser"/> accepts).</summary>
    public static ListenEndpoint Udp(string endpoint) => new(ListenProtocol.Udp, EndpointParser.Parse(endpoint));
}
