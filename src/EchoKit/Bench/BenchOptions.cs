using EchoKit.Endpoints;

namespace EchoKit.Bench;

/// <summary>Settings for one <see cref="BenchRunner"/> run. Every default is documented; <see cref="Validate"/> bounds them all.</summary>
public sealed class BenchOptions
{
    /// <summary>The largest TCP message, 64 MiB.</summary>
    public const int MaxTcpSize = 64 * 1024 * 1024;

    /// <summary>The largest UDP datagram payload over IPv4, 65507 bytes.</summary>
    public const int MaxUdpSize = 65507;

    /// <summary>The smallest UDP datagram: an 8-byte sequence number and an 8-byte send timestamp.</summary>
    public const int MinUdpSize = 16;

    /// <summary>The server to load. Required.</summary>
    public required EndpointSpec Endpoint { get; set; }

    /// <summary>What to measure. Default <see cref="BenchMode.Tcp"/>.</summary>
    public BenchMode Mode { get; set; } = BenchMode.Tcp;

    /// <summary>
    /// TCP connections (UDP: sockets; connect-rate: connections being made at once). Default 1; 1 to 100,000.
    /// The descriptor limit must allow them.
    /// </summary>
    public int Connections { get; set; } = 1;

    /// <summary>Messages in flight per connection (UDP: unanswered datagrams per socket). Default 1; 1 to 65,536.</summary>
    public int Pipeline { get; set; } = 1;

    /// <summary>Message size in bytes. Default 32; 1 to 64 MiB for TCP, 16 to 65,507 for UDP.</summary>
    public int Size { get; set; } = 32;

    /// <summary>How long to measure, after the warm-up, when <see cref="Messages"/> is not set. Default 10 s; up to 24 h.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, measure until this many messages have completed instead of for <see cref="Duration"/>. 1 to 10^12.</summary>
    public long? Messages { get; set; }

    /// <summary>Load before measuring starts (JIT, caches, TCP windows); nothing from it is counted. Default 1 s; 0 to 1 h.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A constant total send rate in messages per second (TCP only), spread evenly over the connections. Latency then
    /// runs from each message's intended send time, so a server that falls behind shows its queueing delay
    /// (coordinated omission corrected). Default none: a closed loop as fast as the server answers. Up to 10^9.
    /// </summary>
    public double? Rate { get; set; }

    /// <summary>
    /// Worker loops, each a thread driving its share of the connections. Default 0: one per core the process may use,
    /// at most one per connection. 0 to 256.
    /// </summary>
    public int Workers { get; set; }

    /// <summary>How long a connection attempt may take before it counts as timed out. Default 5 s; 1 ms to 10 min.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>UDP: a datagram not answered within this is lost and frees its slot in the window. Default 1 s; 1 ms to 1 min.</summary>
    public TimeSpan LossTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Message-count mode only: when no message completes for this long (the server is gone or stopped answering),
    /// the run ends with the error "stalled" instead of waiting forever. Default 10 s; 100 ms to 1 h.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a sample (throughput, p99) is taken for the live line and the report's timeline. Default 1 s; 100 ms to 1 min.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The worker count actually used.</summary>
    public int EffectiveWorkers => Math.Max(1, Math.Min(Workers > 0 ? Workers : Environment.ProcessorCount, Mode == BenchMode.ConnectRate ? 1 : Connections));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Endpoint);
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"unknown mode {Mode}", nameof(Mode));
        }
        if (Endpoint.Port is < 1 or > 65535)
        {
            throw new ArgumentException("the endpoint needs a port from 1 to 65535", nameof(Endpoint));
        }
        Check(Connections is >= 1 and <= 100_000, nameof(Connections), "connections must be from 1 to 100000");
        Check(Pipeline is >= 1 and <= 65_536, nameof(Pipeline), "pipeline must be from 1 to 65536");
        if (Mode == BenchMode.Udp)
        {
            Check(Size is >= MinUdpSize and <= MaxUdpSize, nameof(Size), $"UDP size must be from {MinUdpSize} to {MaxUdpSize} bytes");
        }
        else
        {
            Check(Size is >= 1 and <= MaxTcpSize, nameof(Size), $"size must be from 1 to {MaxTcpSize} bytes");
        }
        Check(Duration > TimeSpan.Zero && Duration <= TimeSpan.FromHours(24), nameof(Duration), "duration must be more than 0 and at most 24h");
        Check(Messages is null or (>= 1 and <= 1_000_000_000_000), nameof(Messages), "messages must be from 1 to 10^12");
        Check(Warmup >= TimeSpan.Zero && Warmup <= TimeSpan.FromHours(1), nameof(Warmup), "warm-up must be from 0 to 1h");
        Check(Rate is null or (> 0 and <= 1e9) && (Rate is null || double.IsFinite(Rate.Value)), nameof(Rate), "rate must be more than 0 and at most 10^9 messages/s");
        Check(Rate is null || Mode == BenchMode.Tcp, nameof(Rate), "a rate applies to TCP message load only");
        Check(Workers is >= 0 and <= 256, nameof(Workers), "workers must be from 0 (one per core) to 256");
        Check(ConnectTimeout >= TimeSpan.FromMilliseconds(1) && ConnectTimeout <= TimeSpan.FromMinutes(10), nameof(ConnectTimeout), "connect timeout must be from 1ms to 10m");
        Check(LossTimeout >= TimeSpan.FromMilliseconds(1) && LossTimeout <= TimeSpan.FromMinutes(1), nameof(LossTimeout), "loss timeout must be from 1ms to 1m");
        Check(StallTimeout >= TimeSpan.FromMilliseconds(100) && StallTimeout <= TimeSpan.FromHours(1), nameof(StallTimeout), "stall timeout must be from 100ms to 1h");
        Check(SampleInterval >= TimeSpan.FromMilliseconds(100) && SampleInterval <= TimeSpan.FromMinutes(1), nameof(SampleInterval), "sample interval must be from 100ms to 1m");
    }

    private static void Check(bool ok, string name, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message, name);
        }
    }
}
