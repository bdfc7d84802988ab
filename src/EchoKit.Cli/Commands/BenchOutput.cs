using EchoKit.Bench;
using EchoKit.Cli.Output;

namespace EchoKit.Cli.Commands;

/// <summary>Prints a bench result (table or JSON), writes the HTML report, and picks the exit code.</summary>
internal static class BenchOutput
{
    public static async Task<int> WriteAsync(BenchResult result, bool json, FileInfo? report)
    {
        if (json)
        {
            await Console.Out.WriteLineAsync(BenchJson.Serialize(result));
        }
        else
        {
            await Console.Out.WriteAsync(BenchTextReport.Render(result));
        }
        await Console.Out.FlushAsync();
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
        if (result.Interrupted)
        {
            await Console.Error.WriteLineAsync("echokit: interrupted");
            return 130;
        }
        if (!result.Success)
        {
            await Console.Error.WriteLineAsync($"echokit: bench {result.Parameters.Endpoint}: {BenchTextReport.FailureReason(result)}");
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }
}
