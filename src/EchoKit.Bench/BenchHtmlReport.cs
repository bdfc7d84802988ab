using System.Globalization;
using System.Net;
using System.Text;
using HdrHistogram;

namespace EchoKit.Bench;

/// <summary>
/// A result as one self-contained HTML page (<c>--report FILE.html</c>): no network, no external file. Inline SVG
/// drawn by inline script: the latency percentile spectrum on HdrHistogram's plotter axis (0%, 90%, 99%, 99.9%...,
/// i.e. log10 of 1/(1-p)), throughput and p99 per second over the run, the parameters and the summary table.
/// A chart with no data is left out (a merged result has no timeline; a run without messages has no spectrum),
/// and a merged result lists every run's parameters.
/// </summary>
public static class BenchHtmlReport
{
    /// <summary>The page for <paramref name="result"/>.</summary>
    public static string Render(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var inv = CultureInfo.InvariantCulture;
        var p = result.Parameters;

        var spectrum = new StringBuilder("[");
        if (result.Latency.TotalCount > 0)
        {
            // The plotter's curve starts at 0%: the smallest value.
            spectrum.Append(inv, $"[0,{result.Latency.LowestEquivalentValue(result.Latency.GetValueAtPercentile(0))}],");
            foreach (var point in result.Latency.Percentiles(5))
            {
                if (point.Percentile >= 100)
                {
                    break;
                }
                spectrum.Append(inv, $"[{point.Percentile:0.#########},{point.ValueIteratedTo}],");
            }
            spectrum.Append(inv, $"[100,{result.Latency.GetMaxValue()}]");
        }
        spectrum.Append(']');

        var timeline = new StringBuilder("[");
        foreach (var s in result.Timeline)
        {
            timeline.Append(inv, $"[{s.ElapsedSeconds:0.###},{s.MessagesPerSecond:0.#},{s.MiBPerSecond:0.###},{(s.P99Microseconds is { } sampleP99 ? sampleP99.ToString(inv) : "null")},{s.Errors}],");
        }
        if (result.Timeline.Count > 0)
        {
            timeline.Length--;
        }
        timeline.Append(']');

        var rows = new List<(string, string)>
        {
            ("Endpoint", $"{p.Endpoint} ({p.Address})"),
            ("Mode", p.Mode),
            ("Transport", p.Transport ?? "tcp"),
            ("Connections", result.Runs > 1 ? $"{result.TotalConnections.ToString(inv)} in total" : p.Connections.ToString(inv)),
            ("Pipeline (in flight per connection)", p.Pipeline.ToString(inv)),
            ("Message size", $"{p.Size.ToString(inv)} B"),
            (p.MessagesTarget is null ? "Duration" : "Messages", p.MessagesTarget is null ? $"{p.DurationSeconds?.ToString("0.###", inv)} s" : p.MessagesTarget.Value.ToString(inv)),
            ("Warm-up", $"{p.WarmupSeconds.ToString("0.###", inv)} s"),
            ("Rate", p.Rate is null ? "closed loop (as fast as answered)" : $"{p.Rate.Value.ToString("0.###", inv)} msg/s (latency from intended send time)"),
            ("Workers", p.Workers.ToString(inv)),
            ("Runs", result.Runs.ToString(inv)),
        };
        var summary = new List<(string, string)>
        {
            ("Messages", result.Messages.ToString("N0", inv)),
            ("Bytes (one way)", result.Bytes.ToString("N0", inv)),
            ("Seconds", result.Seconds.ToString("0.###", inv)),
            ("Messages/s", result.MessagesPerSecond.ToString("N0", inv)),
            ("MiB/s", result.MiBPerSecond.ToString("0.##", inv)),
            ("Latency p50 / p90 / p99 / p99.9 / p99.99 / max", result.Latency.TotalCount == 0 ? "-"
                : string.Join(" / ", new[] { 50, 90, 99, 99.9, 99.99 }.Select(x => result.LatencyAt(x)!.Value.ToString(inv)).Append(result.Latency.GetMaxValue().ToString(inv))) + " µs"),
            ("Little's law ratio", result.LittlesLawRatio is { } ratio ? ratio.ToString("0.000", inv) : "-"),
            ("Connect p50 / p99 / max", result.ConnectTime.TotalCount == 0 ? "-" : $"{result.ConnectTime.GetValueAtPercentile(50)} / {result.ConnectTime.GetValueAtPercentile(99)} / {result.ConnectTime.GetMaxValue()} µs"),
            ("Errors", result.Errors == 0 ? "0" : $"{result.Errors} (" + string.Join(", ", result.ErrorsByReason.Select(e => $"{e.Key} {e.Value}")) + ")"),
            ("Mismatched bytes", result.Mismatches.ToString(inv)),
        };
        if (result.Udp is { } u)
        {
            summary.Add(("Datagrams sent / lost / duplicated / reordered / late", $"{u.Sent} / {u.Lost} / {u.Duplicated} / {u.Reordered} / {u.Late}"));
        }

        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>echokit bench report</title>
            <style>
            body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1150px}
            h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
            table{border-collapse:collapse;margin:4px 0} td{padding:3px 12px 3px 0;vertical-align:top} td:first-child{color:#666}
            .ok{color:#1a7f37;font-weight:600} .bad{color:#cf222e;font-weight:600}
            svg{background:#fafafa;border:1px solid #ddd;display:block}
            .grid line{stroke:#e4e4e4} .axis text{font-size:11px;fill:#555} .series{fill:none;stroke-width:2}
            .cols{display:flex;gap:48px;flex-wrap:wrap;align-items:flex-start}
            </style></head><body>
            """);
        html.Append(inv, $"<h1>echokit bench: {Escape(p.Endpoint)}</h1><div>");
        html.Append(result.Success ? "<span class=\"ok\">OK</span>" : "<span class=\"bad\">FAILED</span>");
        html.Append(inv, $" &middot; {result.MessagesPerSecond:N0} msg/s &middot; p99 {(result.LatencyAt(99) is { } p99 ? $"{p99} µs" : "-")}{(result.Interrupted ? " &middot; interrupted" : "")}</div>");
        html.Append("<div class=\"cols\"><div><h2>Parameters</h2><table>");
        foreach (var (k, v) in rows)
        {
            html.Append(inv, $"<tr><td>{Escape(k)}</td><td>{Escape(v)}</td></tr>");
        }
        html.Append("</table></div><div><h2>Result</h2><table>");
        foreach (var (k, v) in summary)
        {
            html.Append(inv, $"<tr><td>{Escape(k)}</td><td>{Escape(v)}</td></tr>");
        }
        html.Append("</table></div></div>");
        if (result.Runs > 1)
        {
            html.Append("<h2>Runs</h2><table><tr><td>#</td><td>endpoint</td><td>transport</td><td>mode</td><td>connections</td><td>pipeline</td><td>size</td><td>duration / messages</td><td>rate</td></tr>");
            var n = 0;
            foreach (var run in result.RunParameters)
            {
                var what = run.MessagesTarget is { } m ? $"{m} messages" : $"{run.DurationSeconds?.ToString("0.###", inv)} s";
                html.Append(inv, $"<tr><td>{++n}</td><td>{Escape(run.Endpoint)} ({Escape(run.Address)})</td><td>{Escape(run.Transport ?? "tcp")}</td><td>{Escape(run.Mode)}</td><td>{run.Connections}</td><td>{run.Pipeline}</td><td>{run.Size} B</td><td>{what}</td><td>{(run.Rate is { } r ? r.ToString("0.###", inv) + " msg/s" : "closed loop")}</td></tr>");
            }
            html.Append("</table>");
        }
        if (result.Latency.TotalCount > 0)
        {
            html.Append("""
                <h2>Latency by percentile</h2>
                <svg id="spectrum" width="1000" height="360" role="img" aria-label="latency percentile spectrum"></svg>
                """);
        }
        if (result.Timeline.Count > 0)
        {
            html.Append("""
                <h2>Throughput over time (messages/s)</h2>
                <svg id="throughput" width="1000" height="260" role="img" aria-label="throughput over time"></svg>
                """);
        }
        if (result.Timeline.Any(s => s.P99Microseconds is not null))
        {
            html.Append("""
                <h2>p99 latency over time (µs)</h2>
                <svg id="p99" width="1000" height="260" role="img" aria-label="p99 latency over time"></svg>
                """);
        }
        html.Append("<script>\n");
        html.Append(inv, $"const SPECTRUM={spectrum};\nconst TIMELINE={timeline};\n");
        html.Append(Script);
        html.Append("</script></body></html>\n");
        return html.ToString();
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    // Plain SVG drawing; every chart marks itself data-drawn="N" with the points it drew, so a headless browser
    // (bench/render-report.sh) can check that the script ran and the charts are there.
    private const string Script = """
        const NS = "http://www.w3.org/2000/svg";
        function el(name, attrs, parent, text) {
          const e = document.createElementNS(NS, name);
          for (const k in attrs) e.setAttribute(k, attrs[k]);
          if (text !== undefined) e.textContent = text;
          parent.appendChild(e);
          return e;
        }
        function niceMax(v) {
          if (!(v > 0)) return 1;
          const p = Math.pow(10, Math.floor(Math.log10(v)));
          for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
          return 10 * p;
        }
        function fmt(v) {
          if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + "M";
          if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + "k";
          return String(Math.round(v * 10) / 10);
        }
        // xs: values on the x axis; xTicks: [[x, label]]; ys: values; color
        function chart(id, xs, ys, xTicks, color, yLabel, xLabel) {
          const svg = document.getElementById(id);
          if (!svg) return; // left out: no data
          const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
          const L = 70, R = 40, T = 16, B = 42;
          const xMin = xTicks.length ? Math.min(xTicks[0][0], ...xs) : 0;
          const xMax = Math.max(xTicks.length ? xTicks[xTicks.length - 1][0] : 1, ...xs, xMin + 1e-9);
          const yMax = niceMax(Math.max(0, ...ys));
          const sx = x => L + (x - xMin) / (xMax - xMin) * (W - L - R);
          const sy = y => H - B - y / yMax * (H - T - B);
          const grid = el("g", { class: "grid" }, svg), axis = el("g", { class: "axis" }, svg);
          for (let i = 0; i <= 5; i++) {
            const y = yMax * i / 5;
            el("line", { x1: L, x2: W - R, y1: sy(y), y2: sy(y) }, grid);
            el("text", { x: L - 6, y: sy(y) + 4, "text-anchor": "end" }, axis, fmt(y));
          }
          for (const [x, label] of xTicks) {
            el("line", { x1: sx(x), x2: sx(x), y1: T, y2: H - B }, grid);
            el("text", { x: sx(x), y: H - B + 16, "text-anchor": "middle" }, axis, label);
          }
          el("text", { x: 14, y: T + (H - T - B) / 2, transform: `rotate(-90 14 ${T + (H - T - B) / 2})`, "text-anchor": "middle" }, axis, yLabel);
          el("text", { x: L + (W - L - R) / 2, y: H - 6, "text-anchor": "middle" }, axis, xLabel);
          if (!xs.length) {
            el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, axis, "no data");
            svg.dataset.drawn = "0";
            return;
          }
          let d = "";
          xs.forEach((x, i) => { d += (i ? "L" : "M") + sx(x).toFixed(1) + "," + sy(ys[i]).toFixed(1); });
          el("path", { class: "series", d: d, stroke: color }, svg);
          if (xs.length === 1) el("circle", { cx: sx(xs[0]), cy: sy(ys[0]), r: 3, fill: color }, svg);
          svg.dataset.drawn = String(xs.length);
        }
        // Percentile spectrum: x = log10(1 / (1 - p)), so 90% is 1, 99% is 2, 99.9% is 3...
        const maxNines = SPECTRUM.length ? Math.max(2, Math.min(7, Math.ceil(Math.log10(1 / (1 - SPECTRUM[SPECTRUM.length - 2 >= 0 ? SPECTRUM.length - 2 : 0][0] / 100 + 1e-12))) + 1)) : 4;
        const specX = SPECTRUM.map(([p]) => Math.min(maxNines, Math.log10(1 / Math.max(1 - p / 100, Math.pow(10, -maxNines)))));
        const specTicks = [];
        for (let n = 0; n <= maxNines; n++) specTicks.push([n, n === 0 ? "0%" : (100 - Math.pow(10, 2 - n)).toFixed(Math.max(0, n - 2)) + "%"]);
        chart("spectrum", specX, SPECTRUM.map(([, v]) => v), specTicks, "#0969da", "latency (µs)", "percentile");
        const tx = TIMELINE.map(r => r[0]);
        const last = tx.length ? Math.ceil(tx[tx.length - 1]) : 1, step = Math.max(1, Math.ceil(last / 10));
        const timeTicks = [];
        for (let t = 0; t <= last; t += step) timeTicks.push([t, t + " s"]);
        chart("throughput", tx, TIMELINE.map(r => r[1]), timeTicks, "#1a7f37", "messages/s", "time (s)");
        const withP99 = TIMELINE.filter(r => r[3] !== null);
        chart("p99", withP99.map(r => r[0]), withP99.map(r => r[3]), timeTicks, "#cf222e", "p99 (µs)", "time (s)");
        """;
}
