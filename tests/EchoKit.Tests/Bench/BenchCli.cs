using System.Diagnostics;

namespace EchoKit.Tests.Bench;

/// <summary>Runs the echokit program (next to the test assembly) as a process, with a time limit.</summary>
internal static class BenchCli
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static async Task<Outcome> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "echokit.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Support.TestTimeouts.Default * 2);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"echokit {string.Join(' ', args)} did not finish within 60 s");
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }
}
