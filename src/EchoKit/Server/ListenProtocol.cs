namespace EchoKit.Server;

/// <summary>The transport a listener speaks.</summary>
public enum ListenProtocol
{
    /// <summary>TCP stream echo: every byte back, in order.</summary>
    Tcp,
    /// <summary>UDP datagram echo (RFC 862): one answering datagram per datagram, to its exact source.</summary>
    Udp,
}
