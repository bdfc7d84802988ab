using HdrHistogram;

namespace EchoKit.Bench;

/// <summary>
/// The outcome of a run, or of several runs added together (<see cref="Merge"/>): counts, rates, errors by reason,
/// and the latency histogram every percentile is read from.
/// </summary>
public sealed class BenchResult
{
    /// <summary>The settings of the run (of the first run, for a merged result).</summary>
    public required BenchParameters Parameters { get; init; }

    /// <summary>The settings of every run this result adds up, in order (one entry for a single run).</summary>
    public IReadOnlyList<BenchParameters> RunParameters
    {
        get => _runParameters ?? [Parameters];
        init => _runParameters = value;
    }

    private readonly IReadOnlyList<BenchParameters>? _runParameters;

    /// <summary>Connections that carried the load: the sum over merged runs (each run's <see cref="BenchParameters.Connections"/>).</summary>
    public int TotalConnections
    {
        get => _totalConnections ?? Parameters.Connections;
        init => _totalConnections = value;
    }

    private readonly int? _totalConnections;

    /// <summary>Messages completed while measuring (connect-rate mode: connections).</summary>
    public required long Messages { get; init; }

    /// <summary>Payload bytes they carried, one way.</summary>
    public required long Bytes { get; init; }

    /// <summary>Seconds measured (the longest of merged runs, which ran side by side).</summary>
    public required double Seconds { get; init; }

    /// <summary>Messages per second (merged runs: the sum of each run's rate).</summary>
    public required double MessagesPerSecond { get; init; }

    /// <summary>MiB per second of payload, one way.</summary>
    public double MiBPerSecond => MiBPerSecondAt(MessagesPerSecond);

    /// <summary>The MiB/s that <paramref name="messagesPerSecond"/> messages of this run's size make.</summary>
    internal double MiBPerSecondAt(double messagesPerSecond) => messagesPerSecond * Parameters.Size / (1024.0 * 1024.0);

    /// <summary>Errors by reason ("refused", "reset", "timed out", "closed by server", ...).</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByReason { get; init; }

    /// <summary>All errors.</summary>
    public long Errors => ErrorsByReason.Values.Sum();

    /// <summary>Echoed bytes that differed from what was sent at that offset, or came back in excess.</summary>
    public required long Mismatches { get; init; }

    /// <summary>Latency of each measured message in µs, from its send to the arrival of its last echoed byte.</summary>
    public required LongHistogram Latency { get; init; }

    /// <summary>Time to establish each connection, µs.</summary>
    public required LongHistogram ConnectTime { get; init; }

    /// <summary>Throughput and latency per sample interval while measuring (empty for merged results).</summary>
    public required IReadOnlyList<BenchSample> Timeline { get; init; }

    /// <summary>Datagram fates, for UDP runs.</summary>
    public UdpStats? Udp { get; init; }

    /// <summary>How many runs this result adds up.</summary>
    public int Runs { get; init; } = 1;

    /// <summary>
    /// CPU the load generator itself used while measuring, in % of one core (all its threads). Near 100 × cores
    /// means the generator may have been the limit; unknown for merged results.
    /// </summary>
    public double? GeneratorCpuPercent { get; init; }

    /// <summary>The run was stopped early (Ctrl+C).</summary>
    public bool Interrupted { get; init; }

    /// <summary>Nothing went wrong: no error, no mismatch, no lost or duplicated datagram, and messages completed.</summary>
    public bool Success => Errors == 0 && Mismatches == 0 && Messages > 0 && (Udp is null || (Udp.Lost == 0 && Udp.Duplicated == 0));

    /// <summary>Latency at a percentile (0-100), µs; null without messages (an empty histogram has no percentiles).</summary>
    public long? LatencyAt(double percentile) => Latency.TotalCount == 0 ? null : Latency.GetValueAtPercentile(percentile);

    /// <summary>
    /// Little's law check of a closed loop: mean latency × messages/s ÷ (connections × pipeline). With the window kept
    /// full and a true clock it is about 1 (a little under: the time between an echo's arrival and the next send is
    /// in no message's latency). Null for paced (<c>--rate</c>) and connect-rate runs, where the window is not full
    /// by design, and without messages.
    /// </summary>
    public double? LittlesLawRatio => LittlesLawRatioAt(MessagesPerSecond);

    /// <summary><see cref="LittlesLawRatio"/> at a given rate (the JSON writes it at the rate it writes).</summary>
    internal double? LittlesLawRatioAt(double messagesPerSecond)
    {
        if (Parameters.Rate is not null || Parameters.Mode == "connect-rate" || Latency.TotalCount == 0 || messagesPerSecond <= 0)
        {
            return null;
        }
        return Latency.GetMean() / 1e6 * messagesPerSecond / ((double)TotalConnections * Parameters.Pipeline);
    }

    /// <summary>The range of <see cref="LittlesLawRatio"/> outside which a run warns that its window or clock was wrong.</summary>
    public const double LittlesLawLow = 0.9, LittlesLawHigh = 1.1;

    /// <summary>
    /// The first setting in which the runs differ so that adding them would mix different loads (mode, transport,
    /// size, pipeline), or null when they agree.
    /// </summary>
    public static string? FindMismatch(IReadOnlyList<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var all = results.SelectMany(r => r.RunParameters).ToArray();
        if (all.Length < 2)
        {
            return null;
        }
        var first = all[0];
        foreach (var p in all.Skip(1))
        {
            if (p.Mode != first.Mode)
            {
                return $"mode ({first.Mode} vs {p.Mode})";
            }
            if ((p.Transport ?? "tcp") != (first.Transport ?? "tcp"))
            {
                return $"transport ({first.Transport ?? "tcp"} vs {p.Transport ?? "tcp"})";
            }
            if (p.Size != first.Size)
            {
                return $"size ({first.Size} vs {p.Size})";
            }
            if (p.Pipeline != first.Pipeline)
            {
                return $"pipeline ({first.Pipeline} vs {p.Pipeline})";
            }
        }
        return null;
    }

    /// <summary>
    /// Adds results of runs made side by side (e.g. one per machine): counts, errors and histograms are summed
    /// exactly; rates and connections are summed; seconds is the longest run; every run's settings are kept.
    /// It does not check that the runs are alike: see <see cref="FindMismatch"/>.
    /// </summary>
    public static BenchResult Merge(IReadOnlyList<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            throw new ArgumentException("nothing to merge", nameof(results));
        }
        var latency = Internal.LatencyHistograms.Create();
        var connect = Internal.LatencyHistograms.Create();
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        UdpStats? udp = null;
        foreach (var result in results)
        {
            latency.Add(result.Latency);
            connect.Add(result.ConnectTime);
            foreach (var (reason, count) in result.ErrorsByReason)
            {
                errors[reason] = errors.GetValueOrDefault(reason) + count;
            }
            if (result.Udp is not null)
            {
                udp = udp is null ? result.Udp : udp + result.Udp;
            }
        }
        return new BenchResult
        {
            Parameters = results[0].Parameters,
            Messages = results.Sum(r => r.Messages),
            Bytes = results.Sum(r => r.Bytes),
            Seconds = results.Max(r => r.Seconds),
            MessagesPerSecond = results.Sum(r => r.MessagesPerSecond),
            ErrorsByReason = errors,
            Mismatches = results.Sum(r => r.Mismatches),
            Latency = latency,
            ConnectTime = connect,
            Timeline = [],
            Udp = udp,
            Runs = results.Sum(r => r.Runs),
            RunParameters = results.SelectMany(r => r.RunParameters).ToArray(),
            TotalConnections = results.Sum(r => r.TotalConnections),
            Interrupted = results.Any(r => r.Interrupted),
        };
    }
}
