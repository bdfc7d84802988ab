using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EchoKit.Tests.Udp;

/// <summary>Runs the <c>echokit</c> program (echokit.dll next to the tests) as a child process.</summary>
internal sealed class EchokitProcess : IDisposable
{
    private readonly Process _process;

    private EchokitProcess(Process process) => _process = process;

    public StreamReader StandardOutput => _process.StandardOutput;

    public static EchokitProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "echokit.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return new EchokitProcess(Process.Start(info)!);
    }

    /// <summary>Runs to the end with no input; returns the exit code and both outputs.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        process._process.StandardInput.Close();
        var stdout = process._process.StandardOutput.ReadToEndAsync();
        var stderr = process._process.StandardError.ReadToEndAsync();
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, await stdout, await stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public Task<string> ReadStderrToEndAsync() => _process.StandardError.ReadToEndAsync();

    /// <summary>Sends SIGTERM, as a service manager would.</summary>
    public void Terminate() => Assert.Equal(0, Kill(_process.Id, 15));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
