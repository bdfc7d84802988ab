namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>
/// The metrics one command lets <c>--assert</c> name. Commands declare theirs once (bench: latency percentiles,
/// rate, errors, loss...; ping: its own) and parse with it, so an unknown name is a usage error listing the known ones.
/// </summary>
internal sealed class AssertionMetricSet
{
    private readonly Dictionary<string, AssertionMetric> byName;

    public AssertionMetricSet(IEnumerable<AssertionMetric> metrics)
    {
        Metrics = metrics.ToArray();
        byName = new Dictionary<string, AssertionMetric>(StringComparer.OrdinalIgnoreCase);
        foreach (var metric in Metrics)
        {
            if (!byName.TryAdd(metric.Name, metric))
            {
                throw new ArgumentException($"metric '{metric.Name}' is declared twice", nameof(metrics));
            }
        }
    }

    /// <summary>The metrics in declaration order, as the usage error lists them.</summary>
    public IReadOnlyList<AssertionMetric> Metrics { get; }

    public bool TryGet(string name, out AssertionMetric metric) => byName.TryGetValue(name, out metric!);

    /// <summary>"p50, p99, rate, ..." for error messages.</summary>
    public string KnownNames => string.Join(", ", Metrics.Select(m => m.Name));
}
