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

    /// <summary>
    /// A keepalive interval that keeps every flow measured alive with margin: half the shortest time survived among the
    /// protocols that lost something (TCP and UDP alike), at least 1 s; null when nothing was lost.
    /// </summary>
    public double? SuggestedKeepaliveSeconds => KeepaliveBasis is { } basis ? Math.Max(1, Math.Floor(basis.SurvivedSeconds / 2)) : null;

    /// <summary>The finding the suggestion is based on: of <see cref="Tcp"/> and <see cref="Udp"/>, the lost one that survived least.</summary>
    public IdleFinding? KeepaliveBasis
    {
        get
        {
            IdleFinding? basis = null;
            foreach (var finding in new[] { Tcp, Udp })
            {
                if (finding is { LostSeconds: not null } && (basis is null || finding.SurvivedSeconds < basis.SurvivedSeconds))
                {
                    basis = finding;
                }
            }
            return basis;
        }
    }

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
