namespace EchoKit.Ping;

/// <summary>An answer that did not settle a waiting probe.</summary>
public enum PingStrayKind
{
    /// <summary>The echo of a probe that had already timed out.</summary>
    Late,

    /// <summary>A second copy of an answer already received (UDP).</summary>
    Duplicate,

    /// <summary>An answer that arrived after the answer to a later probe (UDP); it still counts as received.</summary>
    Reordered,

    /// <summary>Bytes that match no probe sent (UDP): a corrupted header or a stranger's datagram.</summary>
    Mismatch,
}
