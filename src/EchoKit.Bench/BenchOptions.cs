using EchoKit.Client;
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

    /// <summary>The server to load. Required unless <see cref="UnixPath"/> is set (then it must be null).</summary>
    public EndpointSpec? Endpoint { get; set; }

    /// <summary>
    /// Load a Unix domain stream socket at this path instead of a TCP endpoint (TCP mode only). Default null.
    /// The same epoll worker drives it, so its numbers compare directly with TCP's.
    /// </summary>
    public string? UnixPath { get; set; }

    /// <summary>
    /// TLS over each TCP connection (TCP mode only): SNI, trusted roots and whether to validate, as the client uses.
    /// Default null: plain TCP. TLS runs on <see cref="System.Net.Security.SslStream"/> with one send and one receive
    /// loop per connection, not on the epoll worker; the connect time includes the handshake.
    /// </summary>
    public ConnectTlsOptions? Tls { get; set; }

    /// <summary>
    /// Churn: close each connection this long after it opened (once its messages in flight are back) and connect
    /// again; connects are counted with their latency. Default null: connections live for the whole run. 1 ms to 24 h.
    /// </summary>
    public TimeSpan? ConnectionLifetime { get; set; }

    /// <summary>Churn: close each connection after this many messages and connect again. Default null. 1 to 10^12.</summary>
    public long? MessagesPerConnection { get; set; }

    /// <summary>
    /// Open the connections evenly over this time (connection i at i/N of it) before the warm-up and measuring start.
    /// Default 0: all at once. 0 to 1 h.
    /// </summary>
    public TimeSpan Ramp { get; set; } = TimeSpan.Zero;

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
    public int EffectiveWorkers => Math.Max(1, Math.Min(Workers > 0 ? Workers : Environment.ProcessorCount, Mode == BenchMode.ConnectRate || Tls is not null ? 1 : Connections));

    /// <summary>The transport, as results name it: tcp, tls, unix or udp.</summary>
    public string TransportName => Mode == BenchMode.Udp ? "udp" : UnixPath is not null ? "unix" : Tls is not null ? "tls" : "tcp";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"unknown mode {Mode}", nameof(Mode));
        }
        if (UnixPath is not null)
        {
            Check(Endpoint is null, nameof(UnixPath), "give either an endpoint or a Unix socket path, not both");
            if (EndpointParser.UnixPathError(UnixPath) is { } unixError)
            {
                throw new ArgumentException(unixError, nameof(UnixPath));
            }
            Check(Mode == BenchMode.Tcp, nameof(UnixPath), "a Unix socket path applies to stream load only (not --udp or --connect-rate)");
            Check(Tls is null, nameof(Tls), "TLS applies to TCP endpoints, not Unix sockets");
        }
        else
        {
            ArgumentNullException.ThrowIfNull(Endpoint);
            if (Endpoint.Port is < 1 or > 65535)
            {
                throw new ArgumentException("the endpoint needs a port from 1 to 65535", nameof(Endpoint));
            }
        }
        if (Tls is not null)
        {
            Check(Mode == BenchMode.Tcp, nameof(Tls), "TLS applies to TCP message load only (not --udp or --connect-rate)");
            Check(Rate is null, nameof(Tls), "a rate is not supported with TLS");
            Tls.Validate();
        }
        Check(ConnectionLifetime is null || (ConnectionLifetime >= TimeSpan.FromMilliseconds(1) && ConnectionLifetime <= TimeSpan.FromHours(24)), nameof(ConnectionLifetime), "connection lifetime must be from 1ms to 24h");
        Check(MessagesPerConnection is null or (>= 1 and <= 1_000_000_000_000), nameof(MessagesPerConnection), "messages per connection must be from 1 to 10^12");
        Check((ConnectionLifetime is null && MessagesPerConnection is null) || Mode == BenchMode.Tcp, nameof(ConnectionLifetime), "connection churn applies to TCP message load only");
        Check(Ramp >= TimeSpan.Zero && Ramp <= TimeSpan.FromHours(1), nameof(Ramp), "ramp must be from 0 to 1h");
        Check(Ramp == TimeSpan.Zero || Mode == BenchMode.Tcp, nameof(Ramp), "a ramp applies to TCP message load only");
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
