namespace EchoKit.Bench.Json;

/// <summary>The <c>--json</c> object. Field names are snake_case; <see cref="BenchJson"/> reads and writes it.</summary>
internal sealed class BenchJsonDocument
{
    public string Tool { get; set; } = "echokit bench";

    public int FormatVersion { get; set; } = 1;

    public string Mode { get; set; } = "";

    public BenchParameters? Parameters { get; set; }

    public long Messages { get; set; }

    public long Bytes { get; set; }

    public double Seconds { get; set; }

    public double MessagesPerSec { get; set; }

    public double MibPerSec { get; set; }

    /// <summary>Connect-rate mode: connections per second (the same as messages_per_sec there).</summary>
    public double? ConnectionsPerSec { get; set; }

    public long Errors { get; set; }

    public Dictionary<string, long> ErrorsByReason { get; set; } = [];

    public long Mismatches { get; set; }

    public BenchJsonPercentiles LatencyUs { get; set; } = new();

    /// <summary>Mean latency × messages/s ÷ (connections × pipeline): about 1 for a truthful closed loop; null when paced or empty.</summary>
    public double? LittlesLawRatio { get; set; }

    public BenchJsonPercentiles ConnectUs { get; set; } = new();

    public BenchJsonUdp? Udp { get; set; }

    /// <summary>The generator's own CPU while measuring, % of one core; null for merged results.</summary>
    public double? GeneratorCpuPct { get; set; }

    public int Runs { get; set; } = 1;

    /// <summary>Connections over all runs added up (a single run: its connections).</summary>
    public int TotalConnections { get; set; }

    /// <summary>The parameters of every run added up, in order (a single run: one entry).</summary>
    public List<BenchParameters> RunParameters { get; set; } = [];

    public bool Interrupted { get; set; }

    public List<BenchJsonSample> Timeline { get; set; } = [];

    /// <summary>The latency histogram in HdrHistogram's compressed V2 encoding, base64 (µs, 3 significant digits).</summary>
    public string Histogram { get; set; } = "";

    /// <summary>The connect-time histogram, same encoding.</summary>
    public string ConnectHistogram { get; set; } = "";
}
