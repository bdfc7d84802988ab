using System.Globalization;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Ping;

namespace EchoKit.Cli.Output;

/// <summary>The words and numbers <c>echokit ping</c> prints, in one place: probe lines, transitions, the summary.</summary>
internal static class PingText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary><c>0.412</c>: milliseconds with three decimals, as ping prints them.</summary>
    public static string Ms(double milliseconds) => milliseconds.ToString("0.000", Invariant);

    public static string Ms(TimeSpan duration) => Ms(duration.TotalMilliseconds);

    /// <summary><c>6.0 s</c>: seconds with one decimal (more below a second, so a 50 ms outage does not read 0.1 s).</summary>
    public static string Seconds(TimeSpan duration) =>
        duration.TotalSeconds is >= 1 or 0
            ? duration.TotalSeconds.ToString("0.0", Invariant) + " s"
            : duration.TotalSeconds.ToString("0.0##", Invariant) + " s";

    /// <summary><c>seq=3 from 127.0.0.1:50007 time=0.412 ms</c>, <c>seq=4 timeout</c>, <c>seq=5 refused</c>, <c>seq=6 error (connection reset by peer)</c>.</summary>
    public static string Reply(PingReply reply) => reply.Status switch
    {
        PingStatus.Ok => $"seq={reply.Sequence} from {EndpointResolver.FormatEndPoint(reply.From)} time={Ms(reply.RoundTrip ?? TimeSpan.Zero)} ms",
        PingStatus.Timeout => $"seq={reply.Sequence} timeout",
        PingStatus.Refused => $"seq={reply.Sequence} refused",
        PingStatus.Mismatch => $"seq={reply.Sequence} mismatch ({reply.Detail})",
        _ => $"seq={reply.Sequence} error ({reply.Detail})",
    };

    /// <summary><c>down at seq=11 (timeout)</c>, <c>down at seq=11 (stalled: answered after 2936.412 ms)</c>, <c>up at seq=17 after 6.0 s down</c>.</summary>
    public static string Transition(PingTransition transition) => transition.Up
        ? $"up at seq={transition.Sequence} after {Seconds(transition.DownFor ?? TimeSpan.Zero)} down"
        : transition.RoundTrip is { } roundTrip
            ? $"down at seq={transition.Sequence} ({transition.Reason}: answered after {Ms(roundTrip)} ms)"
            : $"down at seq={transition.Sequence} ({transition.Reason})";

    public static string Stray(PingStray stray) => stray.Kind switch
    {
        PingStrayKind.Late => $"seq={stray.Sequence} late reply" + (stray.RoundTrip is { } late ? $" after {Ms(late)} ms" : ""),
        PingStrayKind.Duplicate => $"seq={stray.Sequence} duplicate reply",
        PingStrayKind.Reordered => $"seq={stray.Sequence} reordered reply (after a later probe's)",
        _ => stray.Sequence > 0 ? $"seq={stray.Sequence} mismatched late reply" : "reply that matches no probe of this run",
    };

    public static string Connected(PingConnected connected)
    {
        var line = $"{(connected.Reconnect ? "reconnected" : "connected")} {EndpointResolver.FormatEndPoint(connected.Local)} -> {EndpointResolver.FormatEndPoint(connected.Remote)} in {Ms(connected.ConnectTime)} ms";
        if (connected.TlsTime is { } tls)
        {
            line += $", TLS handshake {Ms(tls)} ms";
        }
        return connected.Reconnect ? line + $" (for seq={connected.Sequence})" : line;
    }

    /// <summary>The ping-style summary block.</summary>
    public static string Summary(PingSummary s, string title)
    {
        var text = new StringBuilder();
        text.Append(Invariant, $"--- {s.Target} {s.Mode} ping {title} ---\n");
        text.Append(Invariant, $"{s.Sent} sent, {s.Received} received, {s.LossPercent.ToString("0.0##", Invariant)}% loss, {s.Duplicates} duplicates, {s.Late} late, {s.Mismatches} mismatches\n");
        if (s.Timeouts + s.Refused + s.Errors > 0)
        {
            text.Append(Invariant, $"failed: {s.Timeouts} timeout, {s.Refused} refused, {s.Errors} error\n");
        }
        if (s.Reordered > 0)
        {
            text.Append(Invariant, $"{s.Reordered} reordered\n");
        }
        if (s.Stalled > 0)
        {
            text.Append(Invariant, $"{s.Stalled} stalled (answered more than an interval, and at least 50 ms, late: received, and counted as down time)\n");
        }
        var word = s.Mode == "connect" ? "connect" : "rtt";
        if (s.Received > 0)
        {
            text.Append(Invariant, $"{word} min/avg/max/mdev = {Ms(s.MinMs!.Value)}/{Ms(s.AvgMs!.Value)}/{Ms(s.MaxMs!.Value)}/{Ms(s.MdevMs!.Value)} ms\n");
            text.Append(Invariant, $"{word} p50/p90/p99 = {Ms(s.P50Ms!.Value)}/{Ms(s.P90Ms!.Value)}/{Ms(s.P99Ms!.Value)} ms");
            text.Append(s.JitterMs is { } jitter ? $", jitter {Ms(jitter)} ms\n" : "\n");
        }
        text.Append(Invariant, $"up {Seconds(s.Up)}, down {Seconds(s.Down)}, longest outage {Seconds(s.LongestOutage)} ({s.Outages} {(s.Outages == 1 ? "outage" : "outages")})\n");
        return text.ToString();
    }
}
