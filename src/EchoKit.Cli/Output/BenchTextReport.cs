using System.Globalization;
using System.Text;
using EchoKit.Bench;
using HdrHistogram;

namespace EchoKit.Cli.Output;

/// <summary>The result table <c>echokit bench</c> prints: one aligned label/value pair per line.</summary>
internal static class BenchTextReport
{
    public static string Render(BenchResult result)
    {
        var inv = CultureInfo.InvariantCulture;
        var p = result.Parameters;
        var text = new StringBuilder();
        var what = p.MessagesTarget is { } target ? $"{target.ToString("N0", inv)} messages" : $"{p.DurationSeconds?.ToString("0.###", inv)} s";
        var rate = p.Rate is { } r ? $", rate {r.ToString("N0", inv)} msg/s" : "";
        text.Append(inv, $"echokit bench {p.Mode} {p.Endpoint} ({p.Address}): {p.Connections} connection(s) x {p.Pipeline} in flight x {p.Size} B, {what} (+{p.WarmupSeconds.ToString("0.###", inv)} s warm-up){rate}, {p.Workers} worker(s)");
        if (result.Runs > 1)
        {
            text.Append(inv, $"; {result.Runs} runs merged");
        }
        if (result.Interrupted)
        {
            text.Append(", interrupted");
        }
        text.AppendLine().AppendLine();

        var rows = new List<(string Label, string Value)>
        {
            (p.Mode == "connect-rate" ? "connections" : "messages", result.Messages.ToString("N0", inv)),
            ("bytes", result.Bytes.ToString("N0", inv)),
            ("seconds", result.Seconds.ToString("0.000", inv)),
            (p.Mode == "connect-rate" ? "connections/s" : "msg/s", result.MessagesPerSecond.ToString("N0", inv)),
            ("MiB/s", result.MiBPerSecond.ToString("0.00", inv)),
            ("latency us", Percentiles(result, inv)),
            ("connect us", result.ConnectTime.TotalCount == 0 ? "-"
                : $"p50 {result.ConnectTime.GetValueAtPercentile(50)}  p99 {result.ConnectTime.GetValueAtPercentile(99)}  max {result.ConnectTime.GetMaxValue()}  ({result.ConnectTime.TotalCount.ToString("N0", inv)} connects)"),
            ("errors", result.Errors == 0 ? "0" : $"{result.Errors.ToString("N0", inv)} (" + string.Join(", ", result.ErrorsByReason.Select(e => $"{e.Key} {e.Value.ToString("N0", inv)}")) + ")"),
            ("mismatches", result.Mismatches == 0 ? "0" : $"{result.Mismatches.ToString("N0", inv)} byte(s)"),
        };
        if (result.GeneratorCpuPercent is { } cpu)
        {
            rows.Add(("generator cpu", string.Create(inv, $"{cpu:0}% of one core ({result.Parameters.Workers} worker(s))")));
        }
        if (result.Udp is { } u)
        {
            rows.Add(("datagrams", $"sent {u.Sent.ToString("N0", inv)}  lost {u.Lost.ToString("N0", inv)}  duplicated {u.Duplicated.ToString("N0", inv)}  reordered {u.Reordered.ToString("N0", inv)}  late {u.Late.ToString("N0", inv)}"));
        }
        var width = rows.Max(row => row.Label.Length) + 2;
        foreach (var (label, value) in rows)
        {
            text.Append("  ").Append(label.PadRight(width)).AppendLine(value);
        }
        return text.ToString();
    }

    /// <summary>The one-line reason a run failed, for stderr.</summary>
    public static string FailureReason(BenchResult result)
    {
        var parts = new List<string>();
        if (result.Errors > 0)
        {
            parts.Add($"{result.Errors} error(s) (" + string.Join(", ", result.ErrorsByReason.Select(e => $"{e.Key} {e.Value}")) + ")");
        }
        if (result.Mismatches > 0)
        {
            parts.Add($"{result.Mismatches} mismatched byte(s)");
        }
        if (result.Udp is { Lost: > 0 } or { Duplicated: > 0 })
        {
            parts.Add($"{result.Udp!.Lost} datagram(s) lost, {result.Udp.Duplicated} duplicated");
        }
        if (result.Messages == 0)
        {
            parts.Add("no message completed");
        }
        return string.Join(", ", parts);
    }

    private static string Percentiles(BenchResult result, IFormatProvider inv)
    {
        if (result.Latency.TotalCount == 0)
        {
            return "-";
        }
        var max = result.Latency.GetMaxValue();
        return string.Create(inv, $"p50 {result.LatencyAt(50)}  p90 {result.LatencyAt(90)}  p99 {result.LatencyAt(99)}  p99.9 {result.LatencyAt(99.9)}  p99.99 {result.LatencyAt(99.99)}  max {max}");
    }
}
