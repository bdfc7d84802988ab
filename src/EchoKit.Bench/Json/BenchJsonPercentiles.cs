namespace EchoKit.Bench.Json;

/// <summary>
/// Percentiles of a histogram in µs, read from it when writing; informative only when reading (the histogram rules).
/// An empty histogram has no percentiles: every field but the count is null, never 0.
/// </summary>
internal sealed class BenchJsonPercentiles
{
    public long Count { get; set; }

    public long? Min { get; set; }

    public double? Mean { get; set; }

    public long? P50 { get; set; }

    public long? P90 { get; set; }

    public long? P99 { get; set; }

    public long? P999 { get; set; }

    public long? P9999 { get; set; }

    public long? Max { get; set; }
}
