using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace EchoKit.Cli.Observability;

/// <summary>
/// Exports System.Diagnostics.Metrics instruments in the Prometheus text format through prometheus-net's registry
/// and serializer. It listens to the named meters with its own <see cref="MeterListener"/> and feeds prometheus-net's
/// native collectors, so each instrument keeps its Prometheus type: counters are <c>counter</c> with a
/// <c>_total</c> suffix, up-down counters and gauges are <c>gauge</c>, histograms keep the bucket bounds their
/// instrument advises.
/// </summary>
/// <remarks>
/// prometheus-net's own <c>MeterAdapter</c> was tried first: it publishes every counter as an untyped-looking
/// <c>gauge</c> without <c>_total</c>, prefixes names twice when the instrument name repeats the meter name, and
/// forgets series idle for five minutes (an idle listener's "accepted" total would restart from zero). This bridge
/// keeps the maintained part (registry, text exposition, escaping) and fixes the mapping. It is Native-AOT clean.
/// Names: prefix <c>echokit_server_</c> + instrument <c>connections.accepted</c> becomes
/// <c>echokit_server_connections_accepted_total</c>; tag keys become label names with dots as underscores.
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IMetricFactory _factory;
    private readonly MeterListener _listener = new();
    private readonly IReadOnlyDictionary<string, string> _meters;
    private readonly ConcurrentDictionary<Instrument, PrometheusSeries> _series = new();
    private volatile bool _disposed;

    /// <param name="meters">
    /// The meters to export, each with the prefix of its metric names: <c>EchoKit.Server</c> with
    /// <c>echokit_server_</c>; <c>System.Runtime</c> with none, as its instrument names already start with
    /// <c>dotnet.</c>.
    /// </param>
    public PrometheusExporter(IReadOnlyDictionary<string, string> meters)
    {
        _meters = meters;
        _factory = Metrics.WithCustomRegistry(_registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.ContainsKey(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        // One callback per numeric type, each widening to double without boxing.
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<float>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<short>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<byte>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<decimal>((i, v, t, _) => Record(i, (double)v, t));
        _listener.Start();
        _registry.AddBeforeCollectCallback(() =>
        {
            // Observable instruments (open connections, byte totals) are read only now, once per scrape.
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    /// <summary>Writes every exported series in the Prometheus text exposition format (version 0.0.4).</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    /// <summary>The Prometheus name of an instrument: prefix and instrument name, lower case, <c>[a-z0-9_]</c> only, <c>_total</c> on counters.</summary>
    public static string MetricName(string prefix, Instrument instrument)
    {
        var name = Sanitize(prefix + instrument.Name);
        var type = instrument.GetType();
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        var monotonic = (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>)) && !PrometheusSeries.IsLevel(instrument);
        return monotonic && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>Dots, dashes and anything else outside <c>[a-zA-Z0-9_]</c> become underscores; letters go lower case.</summary>
    public static string Sanitize(string name)
    {
        var chars = new char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            chars[i] = char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_';
        }
        return new string(chars);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (IsUdpOnlyOnOtherListener(instrument, tags))
        {
            return;
        }
        try
        {
            if (!_series.TryGetValue(instrument, out var series))
            {
                // The label names are those of the first measurement: instruments here always carry the same tag keys.
                series = _series.GetOrAdd(instrument, PrometheusSeries.Create(instrument, MetricName(_meters[instrument.Meter.Name], instrument), LabelNames(tags), _factory));
            }
            series.Record(value, tags);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A measurement must never fail the code that recorded it (a connection, an accept loop); a series
            // prometheus-net refuses (e.g. clashing label names) is simply not exported.
        }
    }

    /// <summary>
    /// A datagram series on a TCP, TLS or Unix listener: always zero, and five of them per listener. The server
    /// reports its counters per listener whatever the transport; only UDP listeners carry datagrams.
    /// </summary>
    private static bool IsUdpOnlyOnOtherListener(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!instrument.Name.StartsWith("datagrams", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var tag in tags)
        {
            if (tag.Key == EchoKit.Server.EchoServerMetrics.ListenerTag && tag.Value is string listener)
            {
                return !listener.StartsWith("udp://", StringComparison.Ordinal);
            }
        }
        return false;
    }

    private static string[] LabelNames(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var names = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            names[i] = tags[i].Key;
        }
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }
}
