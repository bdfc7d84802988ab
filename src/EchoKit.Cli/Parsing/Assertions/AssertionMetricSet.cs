namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>
/// The metrics one command lets <c>--assert</c> name. Commands declare theirs once (bench: latency percentiles,
/// rate, errors, loss...; ping: its own) and parse with it, so an unknown name is a usage error listing the known ones.
/// The examples shown in the command's help are declared with its metrics and must parse against them: a help text
/// that suggests an expression its own command refuses is a bug (it once showed ping a bench metric).
/// </summary>
internal sealed class AssertionMetricSet
{
    private readonly Dictionary<string, AssertionMetric> byName;

    public AssertionMetricSet(IEnumerable<AssertionMetric> metrics, IEnumerable<string> examples)
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
        Examples = examples.ToArray();
        foreach (var example in Examples)
        {
            if (!AssertionExpression.TryParse(example, this, out _, out var error))
            {
                throw new ArgumentException($"help example: {error}", nameof(examples));
            }
        }
    }

    /// <summary>The metrics in declaration order, as the usage error lists them.</summary>
    public IReadOnlyList<AssertionMetric> Metrics { get; }

    /// <summary>Expressions the help shows, e.g. <c>p99&lt;5ms</c>; each one parses against these metrics.</summary>
    public IReadOnlyList<string> Examples { get; }

    public bool TryGet(string name, out AssertionMetric metric) => byName.TryGetValue(name, out metric!);

    /// <summary>"p50, p99, rate, ..." for error messages.</summary>
    public string KnownNames => string.Join(", ", Metrics.Select(m => m.Name));
}
