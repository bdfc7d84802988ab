namespace EchoKit.Server.ProxyProtocol;

/// <summary>What a PROXY header says about the connection.</summary>
public enum ProxyCommand
{
    /// <summary>The connection is relayed for a client: use the addresses in the header (v1, and v2 PROXY).</summary>
    Proxy,
    /// <summary>
    /// v2 LOCAL: the proxy opened the connection itself (e.g. a health check); the addresses stay the socket's.
    /// </summary>
    Local,
}
