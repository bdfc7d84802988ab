namespace EchoKit.Server;

/// <summary>Why the server refused a connection before echoing anything.</summary>
public enum ConnectionRejectReason
{
    /// <summary><see cref="EchoServerOptions.MaxConnections"/> connections were already open.</summary>
    MaxConnections,
    /// <summary>The client's address is refused by <see cref="EchoServerOptions.AccessList"/>.</summary>
    Denied,
    /// <summary>The PROXY protocol header was missing, malformed, truncated, oversized or too slow.</summary>
    ProxyHeader,
    /// <summary>The TLS handshake failed or timed out.</summary>
    TlsHandshake,
}

/// <summary>Text for <see cref="ConnectionRejectReason"/> in logs and metrics labels.</summary>
public static class ConnectionRejectReasonExtensions
{
    /// <summary>A stable snake_case name: "max_connections", "denied", "proxy_header", "tls_handshake".</summary>
    public static string ToLabel(this ConnectionRejectReason reason) => reason switch
    {
        ConnectionRejectReason.MaxConnections => "max_connections",
        ConnectionRejectReason.Denied => "denied",
        ConnectionRejectReason.ProxyHeader => "proxy_header",
        _ => "tls_handshake",
    };
}
