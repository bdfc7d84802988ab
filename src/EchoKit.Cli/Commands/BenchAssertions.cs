using EchoKit.Bench;
using EchoKit.Cli.Parsing.Assertions;
using HdrHistogram;

namespace EchoKit.Cli.Commands;

/// <summary>The metrics <c>echokit bench --assert</c> can check, and where each is read from a result.</summary>
internal static class BenchAssertions
{
    public static readonly AssertionMetricSet Metrics = new(
    [
        new AssertionMetric("p50", AssertionUnit.Duration, "median latency"),
        new AssertionMetric("p90", AssertionUnit.Duration, "90th percentile latency"),
        new AssertionMetric("p99", AssertionUnit.Duration, "99th percentile latency"),
        new AssertionMetric("p999", AssertionUnit.Duration, "99.9th percentile latency"),
        new AssertionMetric("p9999", AssertionUnit.Duration, "99.99th percentile latency"),
        new AssertionMetric("max", AssertionUnit.Duration, "largest latency"),
        new AssertionMetric("mean", AssertionUnit.Duration, "mean latency"),
        new AssertionMetric("connect_p50", AssertionUnit.Duration, "median connect time"),
        new AssertionMetric("connect_p99", AssertionUnit.Duration, "99th percentile connect time"),
        new AssertionMetric("connect_max", AssertionUnit.Duration, "largest connect time"),
        new AssertionMetric("rate", AssertionUnit.Count, "messages (connect-rate: connections) per second"),
        new AssertionMetric("messages", AssertionUnit.Count, "messages completed while measuring"),
        new AssertionMetric("connects", AssertionUnit.Count, "connections made"),
        new AssertionMetric("errors", AssertionUnit.Count, "errors of any kind"),
        new AssertionMetric("mismatches", AssertionUnit.Count, "echoed bytes that differed"),
        new AssertionMetric("loss", AssertionUnit.Percent, "UDP datagrams lost, % of sent"),
        new AssertionMetric("littles_law", AssertionUnit.Count, "Little's law ratio (about 1 for a full window)"),
    ],
    ["p99<5ms", "rate>=100k", "errors=0"]);

    /// <summary>The metric's value in its base unit (seconds, percent, count); null when the result has no data for it.</summary>
    public static double? Value(BenchResult result, AssertionMetric metric)
    {
        static double? Seconds(long? microseconds) => microseconds is { } us ? us / 1e6 : null;
        var connect = result.ConnectTime;
        long? ConnectAt(double percentile) => connect.TotalCount == 0 ? null : connect.GetValueAtPercentile(percentile);
        return metric.Name switch
        {
            "p50" => Seconds(result.LatencyAt(50)),
            "p90" => Seconds(result.LatencyAt(90)),
            "p99" => Seconds(result.LatencyAt(99)),
            "p999" => Seconds(result.LatencyAt(99.9)),
            "p9999" => Seconds(result.LatencyAt(99.99)),
            "max" => result.Latency.TotalCount == 0 ? null : Seconds(result.Latency.GetMaxValue()),
            "mean" => result.Latency.TotalCount == 0 ? null : result.Latency.GetMean() / 1e6,
            "connect_p50" => Seconds(ConnectAt(50)),
            "connect_p99" => Seconds(ConnectAt(99)),
            "connect_max" => connect.TotalCount == 0 ? null : Seconds(connect.GetMaxValue()),
            "rate" => result.MessagesPerSecond,
            "messages" => result.Messages,
            "connects" => connect.TotalCount,
            "errors" => result.Errors,
            "mismatches" => result.Mismatches,
            "loss" => result.Udp is { Sent: > 0 } u ? 100.0 * u.Lost / u.Sent : null,
            "littles_law" => result.LittlesLawRatio,
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric.Name, "not a bench metric"),
        };
    }
}
