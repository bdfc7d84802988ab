namespace EchoKit.Ping;

/// <summary>What one ping probe does.</summary>
public enum PingMode
{
    /// <summary>Sends a numbered, patterned message over one connection (reconnected when it drops) and times its verified echo.</summary>
    Echo,

    /// <summary>Opens a connection per probe and times the handshake (connect, and TLS when asked); sends no data.</summary>
    Connect,

    /// <summary>Sends one numbered datagram per probe and times its verified echo; counts late, duplicate and reordered replies.</summary>
    Udp,
}
