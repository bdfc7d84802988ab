using EchoKit.Endpoints;

namespace EchoKit.Server;

/// <summary>One listener to open: a protocol and where to bind it.</summary>
/// <param name="Protocol">The transport.</param>
/// <param name="Endpoint">Where to bind; a wildcard host binds every interface, IPv4 and IPv6.</param>
public sealed record ListenEndpoint(ListenProtocol Protocol, EndpointSpec Endpoint)
{
    /// <summary>A TCP listener on <paramref name="endpoint"/> (any form <see cref="EndpointParser.ParseListen"/> accepts).</summary>
    public static ListenEndpoint Tcp(string endpoint) => new(ListenProtocol.Tcp, EndpointParser.ParseListen(endpoint));

    /// <summary>A TLS listener on <paramref name="endpoint"/>; the certificate is <see cref="EchoServerOptions.Tls"/>'s.</summary>
    public static ListenEndpoint Tls(string endpoint) => new(ListenProtocol.Tls, EndpointParser.ParseListen(endpoint));

    /// <summary>A Unix domain stream socket at <paramref name="path"/>, with file permissions <paramref name="mode"/> if given.</summary>
    public static ListenEndpoint Unix(string path, UnixFileMode? mode = null) =>
        new(ListenProtocol.Unix, new EndpointSpec(null, 0, path)) { UnixPath = path, UnixMode = mode };

    /// <summary>For <see cref="ListenProtocol.Unix"/>: the socket file's path (at most 107 bytes); <see cref="Endpoint"/> is unused.</summary>
    public string? UnixPath { get; init; }

    /// <summary>
    /// For <see cref="ListenProtocol.Unix"/>: the socket file's permissions (e.g. 0660), set before it accepts anyone;
    /// <see langword="null"/> (the default) leaves what the process umask gives.
    /// </summary>
    public UnixFileMode? UnixMode { get; init; }

    /// <summary>
    /// Expect a PROXY protocol header (v1 or v2) before each connection's data, and log the client address it
    /// carries. For stream listeners only; off by default (a client could otherwise forge its address).
    /// </summary>
    public bool UseProxyProtocol { get; init; }
    /// <summary>A UDP listener on <paramref name="endpoint"/> (any form <see cref="EndpointParser.ParseListen"/> accepts).</summary>
    public static ListenEndpoint Udp(string endpoint) => new(ListenProtocol.Udp, EndpointParser.ParseListen(endpoint));
}
