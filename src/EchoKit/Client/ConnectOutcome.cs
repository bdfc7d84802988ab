namespace EchoKit.Client;

/// <summary>How an interactive session (<see cref="InteractiveClient"/>) ended.</summary>
public enum ConnectOutcome
{
    /// <summary>TCP: the peer closed the connection cleanly (FIN, and close_notify under TLS when it sent one).</summary>
    PeerClosed,
    /// <summary>UDP: input ended and no datagram arrived for the reply timeout.</summary>
    RepliesEnded,
    /// <summary>Nothing listens there (TCP RST, or ICMP port unreachable for UDP).</summary>
    Refused,
    /// <summary>The host name did not resolve.</summary>
    HostNotFound,
    /// <summary>No route to the network or host.</summary>
    Unreachable,
    /// <summary>Connecting (with the TLS handshake) took longer than the connect timeout.</summary>
    ConnectTimedOut,
    /// <summary>Nothing moved either way for the idle timeout.</summary>
    IdleTimedOut,
    /// <summary>The connection was reset or aborted.</summary>
    Reset,
    /// <summary>The TLS handshake failed (untrusted certificate, name mismatch, protocol error).</summary>
    TlsFailed,
    /// <summary>Reading the input failed, or an input line was too long for a datagram.</summary>
    InputFailed,
    /// <summary>Writing the output failed (e.g. the reader of a pipe went away).</summary>
    OutputFailed,
    /// <summary>Another socket error.</summary>
    Failed,
}
