namespace EchoKit.Probe;

/// <summary>What <see cref="IdleProbe"/> found.</summary>
/// <param name="MaxSeconds">The longest idle period tried.</param>
/// <param name="Findings">One finding per check run.</param>
public sealed record IdleProbeResult(double MaxSeconds, IReadOnlyList<IdleFinding> Findings)
{
    /// <summary>TCP: the shorter of the outbound and inbound findings (a connection is only as alive as its weaker direction).</summary>
    public IdleFinding? Tcp => Weakest("tcp");

    /// <summary>UDP: the mapping's finding.</summary>
    public IdleFinding? Udp => Weakest("udp");

    /// <summary>A keepalive interval that beats the TCP timeout found with margin (half the survived time), or null when nothing was lost.</summary>
    public double? SuggestedKeepaliveSeconds => Tcp is { LostSeconds: not null } tcp ? Math.Max(1, Math.Floor(tcp.SurvivedSeconds / 2)) : null;

    private IdleFinding? Weakest(string prefix)
    {
        IdleFinding? weakest = null;
        foreach (var finding in Findings)
        {
            if (!finding.Check.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            if (weakest is null || (finding.LostSeconds ?? double.MaxValue) < (weakest.LostSeconds ?? double.MaxValue))
            {
                weakest = finding;
            }
        }
        return weakest;
    }
}
