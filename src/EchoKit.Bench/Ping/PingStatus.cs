namespace EchoKit.Ping;

/// <summary>How one probe ended.</summary>
public enum PingStatus
{
    /// <summary>Answered in time, and (echo and UDP modes) the bytes came back unchanged.</summary>
    Ok,

    /// <summary>No answer within the probe's timeout.</summary>
    Timeout,

    /// <summary>The host answered that nothing listens there (TCP RST, or ICMP port unreachable for UDP).</summary>
    Refused,

    /// <summary>Another failure: reset, closed, unreachable, a name that no longer resolves, a TLS failure.</summary>
    Error,

    /// <summary>An answer came in time but its bytes differ from what was sent.</summary>
    Mismatch,
}
