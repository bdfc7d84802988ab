namespace EchoKit.Server.ProxyProtocol;

/// <summary>What <see cref="ProxyHeaderReader"/> got: a header and how many bytes arrived, or why it failed.</summary>
/// <param name="Header">The header, or null on failure.</param>
/// <param name="HeaderLength">Bytes of the buffer taken by the header.</param>
/// <param name="Received">Bytes received in all; those after the header are the client's first data.</param>
/// <param name="Error">Why the connection must close, or null.</param>
internal readonly record struct ProxyReadOutcome(ProxyHeader? Header, int HeaderLength, int Received, string? Error)
{
    public static ProxyReadOutcome Failed(string error) => new(null, 0, 0, error);
}
