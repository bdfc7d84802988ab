namespace EchoKit.Ping;

/// <summary>
/// Receives a ping session's events as they happen. Calls are serialized (never two at once) and replies come in
/// sequence order; keep each call short, since probes wait for it. Every method does nothing by default.
/// </summary>
public interface IPingObserver
{
    /// <summary>The target's address was looked up.</summary>
    void OnResolved(PingResolved resolved)
    {
    }

    /// <summary>A connection (echo) or socket (UDP) was opened.</summary>
    void OnConnected(PingConnected connected)
    {
    }

    /// <summary>The echo connection was lost; the next probe reconnects.</summary>
    void OnDisconnected(string reason)
    {
    }

    /// <summary>A probe ended.</summary>
    void OnReply(PingReply reply)
    {
    }

    /// <summary>The target went down or came back up.</summary>
    void OnTransition(PingTransition transition)
    {
    }

    /// <summary>A late, duplicate, reordered or unmatched answer arrived.</summary>
    void OnStray(PingStray stray)
    {
    }
}
