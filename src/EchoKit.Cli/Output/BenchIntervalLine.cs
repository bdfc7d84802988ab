using System.Globalization;
using EchoKit.Bench;

namespace EchoKit.Cli.Output;

/// <summary>
/// <c>--interval</c>: one line per measured interval, as iperf3 <c>-i</c> prints them: when, msg/s, MiB/s, that
/// interval's p50/p99/max, and its errors. Warm-up intervals are not printed (they are not part of the result).
/// </summary>
internal sealed class BenchIntervalLine(TextWriter output)
{
    public void Show(BenchSample sample)
    {
        if (sample.IsWarmup || sample.Seconds <= 0)
        {
            return;
        }
        output.WriteLine(Format(sample));
        output.Flush();
    }

    public static string Format(BenchSample sample)
    {
        var inv = CultureInfo.InvariantCulture;
        var from = sample.ElapsedSeconds - sample.Seconds;
        static string Us(long? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-";
        return string.Create(inv,
            $"[{from,7:0.0}-{sample.ElapsedSeconds,7:0.0} s]  {sample.MessagesPerSecond,12:N0} msg/s  {sample.MiBPerSecond,9:0.00} MiB/s  p50 {Us(sample.P50Microseconds),7}  p99 {Us(sample.P99Microseconds),7}  max {Us(sample.MaxMicroseconds),8} us  errors {sample.Errors}");
    }
}
