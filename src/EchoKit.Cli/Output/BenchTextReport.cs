using System.Globalization;
using System.Text;
using EchoKit.Bench;
using HdrHistogram;

namespace EchoKit.Cli.Output;

/// <summary>The result table <c>echokit bench</c> prints: one aligned label/value pair per line.</summary>
internal static class BenchTextReport
{
    /// <summary>
    /// The label column's width: fixed, from the longest label any result can show, so optional rows (generator
    /// cpu, datagrams) never shift the others and the layout does not depend on the machine's speed.
    /// </summary>
    public const int LabelWidth = 15;

    public static string Render(BenchResult result)
    {
        var inv = CultureInfo.InvariantCulture;
        var p = result.Parameters;
        var text = new StringBuilder();
        text.Append("echokit bench ").Append(Describe(p, inv));
        if (result.Runs > 1)
        {
            text.Append(inv, $"; {result.Runs} runs merged, {result.TotalConnections.ToString("N0", inv)} connection(s) in total");
        }
        if (result.Interrupted)
        {
            text.Append(", interrupted");
        }
        text.AppendLine();
        if (result.Runs > 1)
        {
            var n = 0;
            foreach (var run in result.RunParameters)
            {
                text.Append(inv, $"  run {++n}: ").AppendLine(Describe(run, inv));
            }
        }
        text.AppendLine();

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
        if (result.LittlesLawRatio is { } ratio)
        {
            rows.Add(("little's law", string.Create(inv, $"{ratio:0.000} (mean latency x msg/s / (connections x pipeline); about 1 when true)")));
        }
        if (result.GeneratorCpuPercent is { } cpu)
        {
            rows.Add(("generator cpu", string.Create(inv, $"{cpu:0}% of one core ({result.Parameters.Workers} worker(s))")));
        }
        if (result.Udp is { } u)
        {
            rows.Add(("datagrams", $"sent {u.Sent.ToString("N0", inv)}  lost {u.Lost.ToString("N0", inv)}  duplicated {u.Duplicated.ToString("N0", inv)}  reordered {u.Reordered.ToString("N0", inv)}  late {u.Late.ToString("N0", inv)}"));
        }
        foreach (var (label, value) in rows)
        {
            text.Append("  ").Append(label.PadRight(LabelWidth)).AppendLine(value);
        }
        return text.ToString();
    }

    private static string Describe(BenchParameters p, IFormatProvider inv)
    {
        var what = p.MessagesTarget is { } target ? $"{target.ToString("N0", inv)} messages" : $"{p.DurationSeconds?.ToString("0.###", inv)} s";
        var rate = p.Rate is { } r ? $", rate {r.ToString("N0", inv)} msg/s" : "";
        var transport = p.Transport is null or "tcp" or "udp" ? "" : $" over {p.Transport}";
        var churn = (p.ConnectionLifetimeSeconds, p.MessagesPerConnection) switch
        {
            ({ } seconds, _) => string.Create(inv, $", each connection for {seconds:0.###} s"),
            (_, { } count) => string.Create(inv, $", each connection for {count:N0} messages"),
            _ => "",
        };
        var ramp = p.RampSeconds > 0 ? string.Create(inv, $", ramp {p.RampSeconds:0.###} s") : "";
        return string.Create(inv, $"{p.Mode}{transport} {p.Endpoint} ({p.Address}): {p.Connections} connection(s) x {p.Pipeline} in flight x {p.Size} B, {what} (+{p.WarmupSeconds:0.###} s warm-up){rate}{churn}{ramp}, {p.Workers} worker(s)");
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
        return string.Create(inv, $"p50 {result.LatencyAt(50)}  p90 {result.LatencyAt(90)}  p99 {result.LatencyAt(99)}  p99.9 {result.LatencyAt(99.9)}  p99.99 {result.LatencyAt(99.99)}  max {max}  mean {result.Latency.GetMean():0.#}");
    }
}
