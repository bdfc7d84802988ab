namespace EchoKit.Ping;

/// <summary>
/// A ping session's statistics, final or interim. Round-trip figures are in milliseconds and null when nothing was
/// received (jitter: when fewer than two answers were). Up and down times count each probe as the time from its
/// scheduled start to the next probe's (one interval, unless the session fell behind and restarted its schedule; the
/// last probe: one interval) in the state it found; a stalled probe's time is down time. They add up to the time the
/// probes took.
/// </summary>
public sealed record PingSummary
{
    /// <summary>The target as given (<c>host:port</c>, or the Unix socket's path).</summary>
    public required string Target { get; init; }

    /// <summary>The mode: <c>echo</c>, <c>connect</c> or <c>udp</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>Probes that ended (answered, failed or timed out).</summary>
    public long Sent { get; init; }

    /// <summary>Probes answered in time and verified.</summary>
    public long Received { get; init; }

    /// <summary>Probes that timed out.</summary>
    public long Timeouts { get; init; }

    /// <summary>Probes refused.</summary>
    public long Refused { get; init; }

    /// <summary>Probes that failed otherwise.</summary>
    public long Errors { get; init; }

    /// <summary>Answers whose bytes differed from what was sent (probes, and UDP datagrams matching no probe).</summary>
    public long Mismatches { get; init; }

    /// <summary>Extra copies of answers (UDP).</summary>
    public long Duplicates { get; init; }

    /// <summary>Answers that came after their probe had timed out.</summary>
    public long Late { get; init; }

    /// <summary>Answers that came after the answer to a later probe (UDP).</summary>
    public long Reordered { get; init; }

    /// <summary>
    /// Probes answered more than one interval (and at least 50 ms) later than the fastest round trip so far: counted as received, and their
    /// intervals as down time (the path held the answer, e.g. TCP retransmitting through an outage).
    /// </summary>
    public long Stalled { get; init; }

    /// <summary>The share of probes not answered and verified, 0 to 100.</summary>
    public double LossPercent => Sent == 0 ? 0 : (Sent - Received) * 100.0 / Sent;

    /// <summary>The fastest round trip, ms.</summary>
    public double? MinMs { get; init; }

    /// <summary>The mean round trip, ms.</summary>
    public double? AvgMs { get; init; }

    /// <summary>The slowest round trip, ms.</summary>
    public double? MaxMs { get; init; }

    /// <summary>The standard deviation of the round trips (ping's mdev), ms.</summary>
    public double? MdevMs { get; init; }

    /// <summary>The median round trip, ms (HdrHistogram, 3 significant digits).</summary>
    public double? P50Ms { get; init; }

    /// <summary>The 90th percentile round trip, ms.</summary>
    public double? P90Ms { get; init; }

    /// <summary>The 99th percentile round trip, ms.</summary>
    public double? P99Ms { get; init; }

    /// <summary>The mean absolute difference between consecutive round trips (RFC 3550's D, unsmoothed), ms.</summary>
    public double? JitterMs { get; init; }

    /// <summary>Time the target was up.</summary>
    public TimeSpan Up { get; init; }

    /// <summary>Time the target was down.</summary>
    public TimeSpan Down { get; init; }

    /// <summary>The longest single outage (one still going at the end counts up to the last probe).</summary>
    public TimeSpan LongestOutage { get; init; }

    /// <summary>How many times the target went down.</summary>
    public long Outages { get; init; }

    /// <summary>True when every probe sent was answered and verified, and at least one was sent.</summary>
    public bool AllAnswered => Sent > 0 && Received == Sent && Mismatches == 0;
}
