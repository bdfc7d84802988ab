namespace EchoKit.Client;

/// <summary>How a one-shot echo exchange ended.</summary>
public enum ExchangeOutcome
{
    /// <summary>Every byte sent came back, in order, unchanged.</summary>
    Matched,
    /// <summary>A byte came back different (or more came back than was sent).</summary>
    Mismatch,
    /// <summary>The server closed before echoing everything.</summary>
    ClosedEarly,
    /// <summary>Nothing listens there: the connection was refused.</summary>
    Refused,
    /// <summary>The timeout passed before the exchange ended.</summary>
    TimedOut,
    /// <summary>The host name did not resolve.</summary>
    HostNotFound,
    /// <summary>No route to the network or host.</summary>
    Unreachable,
    /// <summary>The connection was reset.</summary>
    Reset,
    /// <summary>Reading the payload source failed.</summary>
    SourceError,
    /// <summary>Another socket error.</summary>
    Failed,
    /// <summary>The TLS handshake failed (certificate refused, or the peer does not speak TLS).</summary>
    TlsFailed,
}
