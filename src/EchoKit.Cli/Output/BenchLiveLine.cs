using System.Globalization;
using EchoKit.Bench;

namespace EchoKit.Cli.Output;

/// <summary>
/// The line a run rewrites once a second on a terminal: elapsed, msg/s, MiB/s, that second's p99, errors so far.
/// Written only when stdout is a terminal, so pipes and files get the table alone.
/// </summary>
internal sealed class BenchLiveLine(TextWriter output)
{
    private long _errors;
    private int _width;

    public static bool IsWanted => !Console.IsOutputRedirected;

    public void Show(BenchSample sample)
    {
        _errors += sample.Errors;
        if (sample.Seconds <= 0)
        {
            return; // the instant the run ended: nothing to show
        }
        var inv = CultureInfo.InvariantCulture;
        var when = sample.IsWarmup ? "warm-up" : string.Create(inv, $"{sample.ElapsedSeconds,6:0.0}s");
        var line = string.Create(inv,
            $"{when,7}  {sample.MessagesPerSecond,12:N0} msg/s  {sample.MiBPerSecond,9:0.00} MiB/s  p99 {(sample.P99Microseconds is { } p99 ? p99.ToString(inv) : "-"),7} us  errors {_errors}");
        _width = Math.Max(_width, line.Length);
        output.Write("\r" + line.PadRight(_width));
        output.Flush();
    }

    public void Clear()
    {
        if (_width > 0)
        {
            output.Write("\r" + new string(' ', _width) + "\r");
            output.Flush();
        }
    }
}
