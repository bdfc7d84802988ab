namespace EchoKit.Server.Internal;

/// <summary>What <see cref="UdpSourceTable.Check"/> decided for one datagram.</summary>
internal enum UdpSourceVerdict
{
    /// <summary>Answer it; the source was known.</summary>
    Allowed,
    /// <summary>Answer it; the source is new to the table (its first datagram, or first since it was forgotten).</summary>
    AllowedNewSource,
    /// <summary>Drop it: the source is over its rate, and was already when its previous datagram came.</summary>
    Limited,
    /// <summary>Drop it: the source has just gone over its rate (worth one log line).</summary>
    LimitedFirst,
}
