namespace EchoKit.Bench.Internal;

/// <summary>One worker's counts for one sample interval, handed to the runner's aggregator once per interval.</summary>
internal sealed class WorkerSample
{
    public required int Worker { get; init; }

    /// <summary>Interval number counted from the start of measuring; negative during the warm-up.</summary>
    public required long Index { get; init; }

    /// <summary>The worker's last sample: it stopped during this interval.</summary>
    public required bool Final { get; init; }

    /// <summary>When the interval ended for this worker (its boundary, or the moment it stopped).</summary>
    public required long EndTicks { get; init; }

    public required long Messages { get; init; }

    public required long Bytes { get; init; }

    public required long Errors { get; init; }

    /// <summary>
    /// The interval's latencies, as the worker recorded them: the worker took a fresh recorder from the run's pool, and
    /// the aggregator adds this one up, clears it and gives it back (on the runner's sample thread, not in the worker's loop).
    /// </summary>
    public required LatencyRecorder Latencies { get; init; }
}
