namespace EchoKit.Bench;

/// <summary>What happened to the datagrams of a UDP run (only those sent while measuring).</summary>
/// <param name="Sent">Datagrams sent.</param>
/// <param name="Lost">Not answered within the loss timeout.</param>
/// <param name="Duplicated">Answered more than once (each extra copy counts).</param>
/// <param name="Reordered">Answered after a later datagram of the same socket was.</param>
/// <param name="Late">Answered after being declared lost (still counted in <paramref name="Lost"/>).</param>
public sealed record UdpStats(long Sent, long Lost, long Duplicated, long Reordered, long Late)
{
    /// <summary>Adds two runs' counts.</summary>
    public static UdpStats operator +(UdpStats a, UdpStats b) =>
        new(a.Sent + b.Sent, a.Lost + b.Lost, a.Duplicated + b.Duplicated, a.Reordered + b.Reordered, a.Late + b.Late);
}
