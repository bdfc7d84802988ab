namespace EchoKit.Bench.Json;

/// <summary>One interval of the timeline.</summary>
internal sealed class BenchJsonSample
{
    public long Index { get; set; }

    public double ElapsedSeconds { get; set; }

    public double Seconds { get; set; }

    public long Messages { get; set; }

    public long Bytes { get; set; }

    public double MessagesPerSec { get; set; }

    public double MibPerSec { get; set; }

    public long? P50Us { get; set; }

    public long? P99Us { get; set; }

    public long? MaxUs { get; set; }

    public long Errors { get; set; }
}
