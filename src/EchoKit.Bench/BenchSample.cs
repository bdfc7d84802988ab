namespace EchoKit.Bench;

/// <summary>One sample interval of a run (normally one second), for the live line and the report's timeline.</summary>
/// <param name="Index">Interval number from the start of measuring; negative during the warm-up.</param>
/// <param name="ElapsedSeconds">Seconds from the start of measuring to the end of the interval (negative in the warm-up).</param>
/// <param name="Seconds">Length of the interval (the last one may be shorter).</param>
/// <param name="Messages">Messages completed in it.</param>
/// <param name="Bytes">Payload bytes they carried, one way.</param>
/// <param name="P50Microseconds">Median latency in the interval, µs (null without messages).</param>
/// <param name="P99Microseconds">99th percentile latency in the interval, µs (null without messages).</param>
/// <param name="MaxMicroseconds">Largest latency in the interval, µs (null without messages).</param>
/// <param name="Errors">Errors counted in the interval.</param>
public sealed record BenchSample(
    long Index,
    double ElapsedSeconds,
    double Seconds,
    long Messages,
    long Bytes,
    long? P50Microseconds,
    long? P99Microseconds,
    long? MaxMicroseconds,
    long Errors)
{
    /// <summary>True for samples taken during the warm-up (shown live, never part of the result).</summary>
    public bool IsWarmup => Index < 0;

    /// <summary>Messages per second in the interval.</summary>
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    /// <summary>MiB per second of payload, one way, in the interval.</summary>
    public double MiBPerSecond => Seconds > 0 ? Bytes / Seconds / (1024 * 1024) : 0;
}
