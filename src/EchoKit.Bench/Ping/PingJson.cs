using System.Buffers;
using System.Text;
using System.Text.Json;
using EchoKit.Ping.Internal;

namespace EchoKit.Ping;

/// <summary>
/// The JSON forms of a ping session, written with <see cref="Utf8JsonWriter"/> (no reflection, Native-AOT safe):
/// the summary document (<c>--json</c>) and the one-object-per-line events (<c>--json-stream</c>).
/// </summary>
public static class PingJson
{
    /// <summary>The summary as one JSON document: sent, received, loss_percent, duplicates, late, stalled, mismatches, timeouts, refused, errors, rtt_ms, jitter_ms, up/down times, target, mode.</summary>
    public static string Summary(PingSummary summary, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Write(indented, writer => WriteSummary(writer, summary));
    }

    /// <summary>One probe as a stream line: <c>{"event":"probe","data":{"seq":N,"status":"ok","rtt_ms":0.412}}</c>.</summary>
    public static string ProbeEvent(PingReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return Write(false, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("event", "probe");
            writer.WriteStartObject("data");
            writer.WriteNumber("seq", reply.Sequence);
            writer.WriteString("status", PingStatistics.StatusWord(reply.Status));
            writer.WritePropertyName("rtt_ms");
            WriteNumberOrNull(writer, reply.RoundTrip?.TotalMilliseconds);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    /// <summary>The last stream line: <c>{"event":"end","data":{...}}</c> holding the summary document.</summary>
    public static string EndEvent(PingSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Write(false, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("event", "end");
            writer.WritePropertyName("data");
            WriteSummary(writer, summary);
            writer.WriteEndObject();
        });
    }

    private static void WriteSummary(Utf8JsonWriter writer, PingSummary s)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sent", s.Sent);
        writer.WriteNumber("received", s.Received);
        writer.WriteNumber("loss_percent", Round(s.LossPercent));
        writer.WriteNumber("duplicates", s.Duplicates);
        writer.WriteNumber("late", s.Late);
        writer.WriteNumber("stalled", s.Stalled);
        writer.WriteNumber("mismatches", s.Mismatches);
        // The failures by kind, as the text summary's "failed:" line and --assert timeouts/refused/errors have them.
        writer.WriteNumber("timeouts", s.Timeouts);
        writer.WriteNumber("refused", s.Refused);
        writer.WriteNumber("errors", s.Errors);
        writer.WriteStartObject("rtt_ms");
        WriteNamed(writer, "min", s.MinMs);
        WriteNamed(writer, "avg", s.AvgMs);
        WriteNamed(writer, "max", s.MaxMs);
        WriteNamed(writer, "mdev", s.MdevMs);
        WriteNamed(writer, "p50", s.P50Ms);
        WriteNamed(writer, "p90", s.P90Ms);
        WriteNamed(writer, "p99", s.P99Ms);
        writer.WriteEndObject();
        WriteNamed(writer, "jitter_ms", s.JitterMs);
        writer.WriteNumber("up_seconds", Round(s.Up.TotalSeconds));
        writer.WriteNumber("down_seconds", Round(s.Down.TotalSeconds));
        writer.WriteNumber("longest_outage_seconds", Round(s.LongestOutage.TotalSeconds));
        writer.WriteString("target", s.Target);
        writer.WriteString("mode", s.Mode);
        writer.WriteEndObject();
    }

    private static void WriteNamed(Utf8JsonWriter writer, string name, double? value)
    {
        writer.WritePropertyName(name);
        WriteNumberOrNull(writer, value);
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            writer.WriteNumberValue(Round(v));
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    // Microsecond resolution for milliseconds, and no binary noise (0.30000000000000004) in the output.
    private static double Round(double value) => Math.Round(value, 6);

    private static string Write(bool indented, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
