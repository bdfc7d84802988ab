using System.Text.Json;
using EchoKit.Bench.Internal;
using EchoKit.Bench.Json;
using HdrHistogram;

namespace EchoKit.Bench;

/// <summary>
/// A result as one JSON object (<c>echokit bench --json</c>) and back. The object carries the histograms in
/// HdrHistogram's compressed base64 encoding, so results read back add up exactly (<see cref="BenchResult.Merge"/>).
/// </summary>
public static class BenchJson
{
    /// <summary>The result as one JSON object.</summary>
    public static string Serialize(BenchResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        // The rate is written rounded and read back as written, so what derives from it (MiB/s, the Little's law
        // ratio) is written from the rounded rate: a document read back and written again is then the same text.
        var messagesPerSec = Math.Round(result.MessagesPerSecond, 3);
        var document = new BenchJsonDocument
        {
            Mode = result.Parameters.Mode,
            Parameters = result.Parameters,
            Messages = result.Messages,
            Bytes = result.Bytes,
            Seconds = Math.Round(result.Seconds, 6),
            MessagesPerSec = messagesPerSec,
            MibPerSec = Math.Round(result.MiBPerSecondAt(messagesPerSec), 6),
            ConnectionsPerSec = result.Parameters.Mode == "connect-rate" ? messagesPerSec : null,
            Errors = result.Errors,
            ErrorsByReason = new Dictionary<string, long>(result.ErrorsByReason),
            Mismatches = result.Mismatches,
            LatencyUs = Percentiles(result.Latency),
            LittlesLawRatio = result.LittlesLawRatioAt(messagesPerSec) is { } ratio ? Math.Round(ratio, 4) : null,
            ConnectUs = Percentiles(result.ConnectTime),
            Udp = result.Udp is { } u ? new BenchJsonUdp { Sent = u.Sent, Lost = u.Lost, Duplicated = u.Duplicated, Reordered = u.Reordered, Late = u.Late } : null,
            Runs = result.Runs,
            TotalConnections = result.TotalConnections,
            RunParameters = result.RunParameters.ToList(),
            GeneratorCpuPct = result.GeneratorCpuPercent,
            Interrupted = result.Interrupted,
            Timeline = result.Timeline.Select(ToJson).ToList(),
            Histogram = HistogramCodec.Encode(result.Latency),
            ConnectHistogram = HistogramCodec.Encode(result.ConnectTime),
        };
        var context = indented ? new BenchJsonContext(new JsonSerializerOptions(BenchJsonContext.Default.Options) { WriteIndented = true }) : BenchJsonContext.Default;
        return JsonSerializer.Serialize(document, context.BenchJsonDocument);
    }

    /// <summary>
    /// The first line of <c>--json-stream</c> (iperf3's form): <c>{"event":"start","data":{parameters}}</c>.
    /// </summary>
    public static string StartEvent(BenchParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Event("start", JsonSerializer.Serialize(parameters, BenchJsonContext.Default.BenchParameters));
    }

    /// <summary>One interval of <c>--json-stream</c>: <c>{"event":"interval","data":{...}}</c>, the same fields as the timeline's.</summary>
    public static string IntervalEvent(BenchSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return Event("interval", JsonSerializer.Serialize(ToJson(sample), BenchJsonContext.Default.BenchJsonSample));
    }

    /// <summary>The last line of <c>--json-stream</c>: <c>{"event":"end","data":D}</c> where D is exactly what <see cref="Serialize"/> writes.</summary>
    public static string EndEvent(BenchResult result) => Event("end", Serialize(result));

    private static string Event(string name, string data) => $"{{\"event\":\"{name}\",\"data\":{data}}}";

    private static BenchJsonSample ToJson(BenchSample s) => new()
    {
        Index = s.Index,
        ElapsedSeconds = Math.Round(s.ElapsedSeconds, 6),
        Seconds = Math.Round(s.Seconds, 6),
        Messages = s.Messages,
        Bytes = s.Bytes,
        MessagesPerSec = Math.Round(s.MessagesPerSecond, 3),
        MibPerSec = Math.Round(s.MiBPerSecond, 6),
        P50Us = s.P50Microseconds,
        P99Us = s.P99Microseconds,
        MaxUs = s.MaxMicroseconds,
        Errors = s.Errors,
    };

    /// <summary>Reads a result written by <see cref="Serialize"/>; throws <see cref="FormatException"/> with the reason when it is not one.</summary>
    public static BenchResult Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        BenchJsonDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, BenchJsonContext.Default.BenchJsonDocument);
        }
        catch (JsonException ex)
        {
            // JsonException's text names .NET's property paths; the line and byte are what a person can look up.
            var where = ex.LineNumber switch
            {
                null => "",
                0 => $" at byte {(ex.BytePositionInLine ?? 0) + 1}",
                var line => $" at line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}",
            };
            throw new FormatException($"not an echokit bench result (JSON it cannot read{where})");
        }
        if (document?.Parameters is null || string.IsNullOrEmpty(document.Histogram))
        {
            throw new FormatException("not an echokit bench result: parameters or histogram missing");
        }
        var latency = HistogramCodec.Decode(document.Histogram);
        var connect = string.IsNullOrEmpty(document.ConnectHistogram) ? LatencyHistograms.Create() : HistogramCodec.Decode(document.ConnectHistogram);
        return new BenchResult
        {
            Parameters = document.Parameters,
            Messages = document.Messages,
            Bytes = document.Bytes,
            Seconds = document.Seconds,
            MessagesPerSecond = document.MessagesPerSec,
            ErrorsByReason = new SortedDictionary<string, long>(document.ErrorsByReason, StringComparer.Ordinal),
            Mismatches = document.Mismatches,
            Latency = latency,
            ConnectTime = connect,
            Timeline = document.Timeline.Select(s => new BenchSample(s.Index, s.ElapsedSeconds, s.Seconds, s.Messages, s.Bytes, s.P50Us, s.P99Us, s.MaxUs, s.Errors)).ToList(),
            Udp = document.Udp is { } u ? new UdpStats(u.Sent, u.Lost, u.Duplicated, u.Reordered, u.Late) : null,
            Runs = Math.Max(1, document.Runs),
            RunParameters = document.RunParameters.Count > 0 ? document.RunParameters : [document.Parameters],
            TotalConnections = document.TotalConnections > 0 ? document.TotalConnections : document.Parameters.Connections,
            GeneratorCpuPercent = document.GeneratorCpuPct,
            Interrupted = document.Interrupted,
        };
    }

    private static BenchJsonPercentiles Percentiles(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return new BenchJsonPercentiles(); // no percentiles: null, never 0
        }
        return new BenchJsonPercentiles
        {
            Count = histogram.TotalCount,
            Min = histogram.RecordedValues().First().ValueIteratedTo is var first ? histogram.LowestEquivalentValue(first) : 0,
            Mean = Math.Round(histogram.GetMean(), 3),
            P50 = histogram.GetValueAtPercentile(50),
            P90 = histogram.GetValueAtPercentile(90),
            P99 = histogram.GetValueAtPercentile(99),
            P999 = histogram.GetValueAtPercentile(99.9),
            P9999 = histogram.GetValueAtPercentile(99.99),
            Max = histogram.GetMaxValue(),
        };
    }
}
