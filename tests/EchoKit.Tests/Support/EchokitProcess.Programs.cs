using System.Diagnostics;

namespace EchoKit.Tests.Support;

internal sealed partial class EchokitProcess
{
    /// <summary>
    /// Runs another program (a script) to its end with the same output pumps, clean <c>ECHOKIT_*</c>-free environment
    /// and bounded wait as <c>echokit</c> itself; returns the exit code and both outputs.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunProgramAsync(string fileName, IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ECHOKIT_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        await using var process = new EchokitProcess(Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start"), timeout);
        process.CloseInput();
        var code = await process.WaitForExitAsync();
        return (code, process.Stdout, process.Stderr);
    }
}
