using System.Globalization;
using EchoKit.Bench;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing.Assertions;

namespace EchoKit.Cli.Commands;

/// <summary>
/// Prints a bench result (table, JSON or the stream's end event), warns when Little's law does not hold or a
/// paced run fell short of its rate, writes the
/// HTML report, checks the assertions, and picks the exit code: the signal's (130 SIGINT, 143 SIGTERM) when a signal
/// stopped the run, 3 an assertion failed, 1 the run failed (errors, mismatches, nothing completed), else 0.
/// </summary>
internal static class BenchOutput
{
    /// <param name="signalExitCode">
    /// The exit code of the signal that stopped this run (<see cref="Hosting.ShutdownSignals.ExitCode"/>), returned when
    /// the result is interrupted; 0 when no signal came in this process (e.g. <c>bench merge</c> adding runs that were
    /// stopped elsewhere: their interruption is shown in the result, not turned into this process's exit code).
    /// </param>
    public static async Task<int> WriteAsync(BenchResult result, BenchOutputFormat format, FileInfo? report, IReadOnlyList<AssertionExpression> assertions, int signalExitCode)
    {
        var stdout = Console.Out;
        switch (format)
        {
            case BenchOutputFormat.Json:
                await stdout.WriteLineAsync(BenchJson.Serialize(result));
                break;
            case BenchOutputFormat.JsonStream:
                await stdout.WriteLineAsync(BenchJson.EndEvent(result));
                break;
            default:
                await stdout.WriteAsync(BenchTextReport.Render(result));
                break;
        }
        await stdout.FlushAsync();
        if ((LittlesLawWarning(result) ?? RateShortfallWarning(result)) is { } warning)
        {
            await Console.Error.WriteLineAsync(warning);
        }
        if (report is not null)
        {
            try
            {
                await File.WriteAllTextAsync(report.FullName, BenchHtmlReport.Render(result));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"echokit: cannot write report {report.FullName}: {ex.Message}");
                return ExitCodes.Failure;
            }
        }
        if (result.Interrupted && signalExitCode != 0)
        {
            await Console.Error.WriteLineAsync("echokit: interrupted");
            return signalExitCode;
        }
        var outcomes = AssertionExpression.EvaluateAll(assertions, metric => BenchAssertions.Value(result, metric));
        var assertionsOut = format == BenchOutputFormat.Table ? stdout : Console.Error;
        foreach (var outcome in outcomes)
        {
            await assertionsOut.WriteLineAsync(outcome.Describe());
        }
        await assertionsOut.FlushAsync();
        if (!result.Success)
        {
            await Console.Error.WriteLineAsync($"echokit: bench {result.Parameters.Endpoint}: {BenchTextReport.FailureReason(result)}");
        }
        if (outcomes.Any(o => !o.Passed))
        {
            await Console.Error.WriteLineAsync($"echokit: bench {result.Parameters.Endpoint}: {outcomes.Count(o => !o.Passed)} of {outcomes.Count} assertion(s) failed");
            return ExitCodes.AssertionFailed;
        }
        return result.Success ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Below this share of the asked <c>--rate</c>, the run did not keep its schedule and says so.</summary>
    internal const double RateKeptShare = 0.95;

    /// <summary>
    /// The stderr warning when a paced run (<c>--rate</c>) reached less than <see cref="RateKeptShare"/> of its rate:
    /// the server (or the connections' window) could not keep up, so messages fell due that were never sent. Their
    /// wait is in the latencies of the messages that were sent (timed from their due times), but the ones never sent
    /// are in no count, so the shortfall must be said, not left to be noticed in msg/s. Null when the rate was kept or
    /// no rate was asked.
    /// </summary>
    public static string? RateShortfallWarning(BenchResult result)
    {
        var p = result.Parameters;
        if (p.Rate is not { } rate || rate <= 0 || p.Mode == "connect-rate" || result.MessagesPerSecond >= RateKeptShare * rate)
        {
            return null;
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"echokit: warning: asked for {rate:0.##} msg/s, reached {result.MessagesPerSecond:0.##} ({result.MessagesPerSecond / rate:0%}): the server, or {p.Connections} x {p.Pipeline} in flight, could not keep up; messages that fell due were not sent, and the latencies include each sent message's wait from its due time");
    }

    /// <summary>
    /// The stderr warning when a closed loop's Little's law ratio is outside 0.9–1.1; null when it holds or does not
    /// apply. A message count under ten windows (connections x pipeline) cannot keep the window full: its last window
    /// drains with nothing behind it, which the warning then says instead of blaming the generator or the clock.
    /// </summary>
    public static string? LittlesLawWarning(BenchResult result)
    {
        if (result.LittlesLawRatio is not { } ratio || ratio is >= BenchResult.LittlesLawLow and <= BenchResult.LittlesLawHigh)
        {
            return null;
        }
        var p = result.Parameters;
        var window = (long)p.Connections * p.Pipeline;
        var why = p.MessagesTarget is { } count && ratio < BenchResult.LittlesLawLow && count < 10 * window
            ? $"-n {count} is too few to keep {p.Connections} x {p.Pipeline} in flight (the last of them drain with nothing behind them)"
            : "the window was not kept full or the clock is wrong";
        return string.Create(CultureInfo.InvariantCulture,
            $"echokit: warning: Little's law ratio {ratio:0.000} (mean latency x msg/s / (connections x pipeline)) is outside {BenchResult.LittlesLawLow}-{BenchResult.LittlesLawHigh}: {why}");
    }
}
