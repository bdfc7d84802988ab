namespace EchoKit.Server;

/// <summary>The transport a listener speaks.</summary>
public enum ListenProtocol
{
    /// <summary>TCP stream echo: every byte back, in order.</summary>
    Tcp,
    /// <summary>Stream echo on a Unix domain socket (<see cref="ListenEndpoint.UnixPath"/>).</summary>
    Unix,
    /// <summary>Stream echo over TLS 1.2 or 1.3 on TCP (<see cref="EchoServerOptions.Tls"/> holds the certificate).</summary>
    Tls,
    /// <summary>UDP datagram echo (RFC 862): one answering datagram per datagram, to its exact source.</summary>
    Udp,
}
