using System.Diagnostics.Metrics;
using System.Globalization;
using Prometheus;

namespace EchoKit.Cli.Observability;

/// <summary>
/// One instrument's prometheus-net collector and how a measurement updates it: added to a counter, raised to an
/// observed total, added to or set on a gauge, observed by a histogram.
/// </summary>
internal sealed class PrometheusSeries
{
    /// <summary>Used when a histogram advises no bucket bounds: prometheus-net's defaults, 5 ms to 10 s.</summary>
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    [ThreadStatic]
    private static string[]? t_labelValues;

    private readonly Kind _kind;
    private readonly string[] _tagKeys;
    private readonly Counter? _counter;
    private readonly Gauge? _gauge;
    private readonly Histogram? _histogram;

    private enum Kind { CounterAdd, CounterTotal, GaugeAdd, GaugeSet, Histogram }

    private PrometheusSeries(Kind kind, string[] tagKeys, Counter? counter = null, Gauge? gauge = null, Histogram? histogram = null)
    {
        _kind = kind;
        _tagKeys = tagKeys;
        _counter = counter;
        _gauge = gauge;
        _histogram = histogram;
    }

    public static PrometheusSeries Create(Instrument instrument, string name, string[] tagKeys, IMetricFactory factory)
    {
        var labels = Array.ConvertAll(tagKeys, PrometheusExporter.Sanitize);
        var help = string.IsNullOrEmpty(instrument.Unit) ? instrument.Description ?? instrument.Name : $"{instrument.Description} ({instrument.Unit})";
        var type = instrument.GetType();
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (definition == typeof(Counter<>))
        {
            return new PrometheusSeries(Kind.CounterAdd, tagKeys, counter: factory.CreateCounter(name, help, labels));
        }
        if (definition == typeof(ObservableCounter<>) && !IsLevel(instrument))
        {
            return new PrometheusSeries(Kind.CounterTotal, tagKeys, counter: factory.CreateCounter(name, help, labels));
        }
        if (definition == typeof(UpDownCounter<>))
        {
            return new PrometheusSeries(Kind.GaugeAdd, tagKeys, gauge: factory.CreateGauge(name, help, labels));
        }
        if (definition == typeof(Histogram<>))
        {
            var buckets = instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { Count: > 0 } advised }
                ? advised.ToArray()
                : DefaultBuckets;
            return new PrometheusSeries(Kind.Histogram, tagKeys,
                histogram: factory.CreateHistogram(name, help, labels, new HistogramConfiguration { Buckets = buckets }));
        }
        // ObservableUpDownCounter, ObservableGauge, Gauge: the measurement is the current value.
        return new PrometheusSeries(Kind.GaugeSet, tagKeys, gauge: factory.CreateGauge(name, help, labels));
    }

    /// <summary>
    /// Instruments that go up and down although the runtime publishes them as counters: the thread pool's thread
    /// count and queue length are levels (a gauge), not totals; as a counter, Prometheus would read every drop as a
    /// counter reset and <c>rate()</c> would invent traffic.
    /// </summary>
    public static bool IsLevel(Instrument instrument) => instrument.Meter.Name == "System.Runtime"
        && instrument.Name is "dotnet.thread_pool.thread.count" or "dotnet.thread_pool.queue.length";

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // The label values in the collector's order; a missing tag is an empty label. The buffer is per thread, so a
        // measurement allocates nothing once its series exists.
        var buffer = t_labelValues is { } existing && existing.Length >= _tagKeys.Length ? existing : t_labelValues = new string[Math.Max(8, _tagKeys.Length)];
        for (var i = 0; i < _tagKeys.Length; i++)
        {
            buffer[i] = "";
            foreach (var tag in tags)
            {
                if (tag.Key == _tagKeys[i])
                {
                    buffer[i] = tag.Value as string ?? Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
                    break;
                }
            }
        }
        var values = new ReadOnlySpan<string>(buffer, 0, _tagKeys.Length);
        switch (_kind)
        {
            case Kind.CounterAdd: _counter!.WithLabels(values).Inc(value); break;
            case Kind.CounterTotal: _counter!.WithLabels(values).IncTo(value); break;
            case Kind.GaugeAdd: _gauge!.WithLabels(values).Inc(value); break;
            case Kind.GaugeSet: _gauge!.WithLabels(values).Set(value); break;
            case Kind.Histogram: _histogram!.WithLabels(values).Observe(value); break;
        }
    }
}
