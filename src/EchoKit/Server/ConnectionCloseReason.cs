namespace EchoKit.Server;

/// <summary>Why a connection ended, as logged when it leaves.</summary>
public enum ConnectionCloseReason
{
    /// <summary>The client shut down its sending side (or closed); everything it sent was echoed first.</summary>
    ClosedByPeer,
    /// <summary>The client reset the connection (RST), or it broke under us.</summary>
    Reset,
    /// <summary>The server was shutting down and the connection outlived the shutdown timeout.</summary>
    Shutdown,
    /// <summary>An unexpected fault, logged as an error.</summary>
    Error,
    /// <summary>No byte went either way for <see cref="EchoServerOptions.IdleTimeout"/>.</summary>
    Idle,
    /// <summary>
    /// The client broke the protocol after the connection was set up: over TLS, a record that does not decrypt, a
    /// renegotiation request, a stream cut mid-record. The peer's fault, not the server's: logged at Information.
    /// </summary>
    ProtocolError,
}

/// <summary>Text for <see cref="ConnectionCloseReason"/> in logs.</summary>
public static class ConnectionCloseReasonExtensions
{
    /// <summary>The words used in log lines: "closed by peer", "reset", "shutdown", "error", "idle", "protocol error".</summary>
    public static string ToDisplayString(this ConnectionCloseReason reason) => reason switch
    {
        ConnectionCloseReason.ClosedByPeer => "closed by peer",
        ConnectionCloseReason.Reset => "reset",
        ConnectionCloseReason.Shutdown => "shutdown",
        ConnectionCloseReason.Idle => "idle",
        ConnectionCloseReason.ProtocolError => "protocol error",
        _ => "error",
    };
}
