using System.Diagnostics.Metrics;
using System.Text;
using EchoKit.Cli.Observability;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Operations;

/// <summary>The System.Diagnostics.Metrics to Prometheus bridge, on a meter of its own per test.</summary>
[Trait("Kind", "Unit")]
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly string _meterName = $"EchoKit.Test.{Guid.NewGuid():N}";
    private readonly Meter _meter;
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests()
    {
        _meter = new Meter(_meterName);
        _exporter = new PrometheusExporter(new Dictionary<string, string> { [_meterName] = "t_" });
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    private async Task<string> ScrapeAsync()
    {
        using var buffer = new MemoryStream();
        await _exporter.WriteAsync(buffer, CancellationToken.None);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static readonly KeyValuePair<string, object?> ListenerA = new("listener", "tcp://127.0.0.1:1");
    private static readonly KeyValuePair<string, object?> ListenerB = new("listener", "tcp://127.0.0.1:2");

    [Fact]
    public async Task CounterBecomesPrometheusCounterWithTotalSuffixPerTagSet()
    {
        var counter = _meter.CreateCounter<long>("connections.rejected", "{connection}", "Rejected.");
        counter.Add(2, ListenerA, new("reason", "denied"));
        counter.Add(1, ListenerA, new("reason", "max_connections"));
        counter.Add(5, ListenerB, new("reason", "denied"));

        var text = await ScrapeAsync();

        Assert.Contains("# TYPE t_connections_rejected_total counter", text);
        Assert.Contains("t_connections_rejected_total{listener=\"tcp://127.0.0.1:1\",reason=\"denied\"} 2", text);
        Assert.Contains("t_connections_rejected_total{listener=\"tcp://127.0.0.1:1\",reason=\"max_connections\"} 1", text);
        Assert.Contains("t_connections_rejected_total{listener=\"tcp://127.0.0.1:2\",reason=\"denied\"} 5", text);
    }

    [Fact]
    public async Task ObservableCounterIsReadAtScrapeTime()
    {
        long total = 10;
        _meter.CreateObservableCounter("received.bytes", () => new Measurement<long>(total, ListenerA), "By");

        var first = await ScrapeAsync();
        total = 25;
        var second = await ScrapeAsync();

        Assert.Contains("# TYPE t_received_bytes_total counter", first);
        Assert.Contains("t_received_bytes_total{listener=\"tcp://127.0.0.1:1\"} 10", first);
        Assert.Contains("t_received_bytes_total{listener=\"tcp://127.0.0.1:1\"} 25", second);
    }

    [Fact]
    public async Task UpDownCountersAndGaugesBecomeGauges()
    {
        var upDown = _meter.CreateUpDownCounter<long>("queued");
        upDown.Add(3, ListenerA);
        upDown.Add(-1, ListenerA);
        long open = 4;
        _meter.CreateObservableUpDownCounter("connections.active", () => new Measurement<long>(open, ListenerA));

        var text = await ScrapeAsync();

        Assert.Contains("# TYPE t_queued gauge", text);
        Assert.Contains("t_queued{listener=\"tcp://127.0.0.1:1\"} 2", text);
        Assert.Contains("# TYPE t_connections_active gauge", text);
        Assert.Contains("t_connections_active{listener=\"tcp://127.0.0.1:1\"} 4", text);
    }

    [Fact]
    public async Task HistogramUsesTheBucketsItsInstrumentAdvises()
    {
        var histogram = _meter.CreateHistogram("duration.seconds", "s", "Durations.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1, 10] });
        histogram.Record(0.05, ListenerA);
        histogram.Record(0.5, ListenerA);
        histogram.Record(50, ListenerA);

        var text = await ScrapeAsync();

        Assert.Contains("# TYPE t_duration_seconds histogram", text);
        Assert.Contains("t_duration_seconds_bucket{listener=\"tcp://127.0.0.1:1\",le=\"0.1\"} 1", text);
        Assert.Contains("t_duration_seconds_bucket{listener=\"tcp://127.0.0.1:1\",le=\"1\"} 2", text);
        Assert.Contains("t_duration_seconds_bucket{listener=\"tcp://127.0.0.1:1\",le=\"10\"} 2", text);
        Assert.Contains("t_duration_seconds_bucket{listener=\"tcp://127.0.0.1:1\",le=\"+Inf\"} 3", text);
        Assert.Contains("t_duration_seconds_count{listener=\"tcp://127.0.0.1:1\"} 3", text);
    }

    [Fact]
    public async Task OtherMetersAreNotExported()
    {
        using var other = new Meter($"Other.{Guid.NewGuid():N}");
        other.CreateCounter<long>("ignored").Add(1);

        var text = await ScrapeAsync();

        Assert.DoesNotContain("ignored", text);
    }

    [Fact]
    public async Task LabelValuesAreEscapedAndTagKeysSanitized()
    {
        _meter.CreateCounter<long>("odd").Add(1, new KeyValuePair<string, object?>("gc.heap", "a\"b\\c"));

        var text = await ScrapeAsync();

        Assert.Contains("t_odd_total{gc_heap=\"a\\\"b\\\\c\"} 1", text);
    }

    [Fact]
    public void RecordingIntoAnExistingSeriesAllocatesNothing()
    {
        var counter = _meter.CreateCounter<long>("events");
        var histogram = _meter.CreateHistogram<double>("seconds");
        var reason = new KeyValuePair<string, object?>("reason", "closed_by_peer");
        for (var i = 0; i < 10_000; i++)
        {
            counter.Add(1, ListenerA); // warm-up: the series exist and the code has been compiled
            histogram.Record(1, ListenerA, reason);
        }

        AllocationAssert.NothingPerCall(20_000, i =>
        {
            if (i % 2 == 0)
            {
                counter.Add(1, ListenerA);
            }
            else
            {
                histogram.Record(0.5, ListenerA, reason);
            }
        });
    }

    [Theory]
    [InlineData("EchoKit.Server", "echokit_server")]
    [InlineData("a-b.c d", "a_b_c_d")]
    public void NamesAreSanitizedToPrometheusCharacters(string name, string expected) =>
        Assert.Equal(expected, PrometheusExporter.Sanitize(name));
}
