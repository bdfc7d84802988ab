using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace EchoKit.Tests.Support;

/// <summary>Runs the built <c>echokit</c> program as a child process, as a user would, and captures its output.</summary>
internal sealed partial class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly MemoryStream? _rawStdout;

    private CliProcess(Process process, bool rawStdout)
    {
        _process = process;
        if (rawStdout)
        {
            _rawStdout = new MemoryStream();
            _stdoutPump = process.StandardOutput.BaseStream.CopyToAsync(_rawStdout);
        }
        else
        {
            _stdoutPump = PumpAsync(process.StandardOutput, _stdout, true);
        }
        _stderrPump = PumpAsync(process.StandardError, _stderr, false);
    }

    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "echokit.dll");

    public Process Process => _process;

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>Everything written to stdout, as bytes (only for processes started with <see cref="StartRaw"/>).</summary>
    public byte[] RawStandardOutput => _rawStdout!.ToArray();

    /// <summary>Starts <c>echokit ARGS</c> with stdin as a pipe the test can write to and close.</summary>
    public static CliProcess Start(params string[] args) => Start(false, args);

    /// <summary>Like <see cref="Start(string[])"/>, but stdout is kept as raw bytes.</summary>
    public static CliProcess StartRaw(params string[] args) => Start(true, args);

    /// <summary>Runs <c>echokit ARGS</c> as the unprivileged user nobody (needs root and setpriv); null when that is not possible.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)?> RunUnprivilegedAsync(params string[] args)
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv"))
        {
            return null;
        }
        return await RunAsync(null, ["--setpriv-nobody", .. args]);
    }

    private static CliProcess Start(bool rawStdout, string[] args)
    {
        var unprivileged = args.Length > 0 && args[0] == "--setpriv-nobody";
        if (unprivileged)
        {
            args = args[1..];
        }
        var info = new ProcessStartInfo(unprivileged ? "/usr/bin/setpriv" : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (unprivileged)
        {
            foreach (var arg in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet" })
            {
                info.ArgumentList.Add(arg);
            }
        }
        info.ArgumentList.Add(ProgramPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return new CliProcess(Process.Start(info)!, rawStdout);
    }

    /// <summary>Runs <c>echokit ARGS</c> to its end with <paramref name="stdin"/> as input; returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(byte[]? stdin, params string[] args)
    {
        await using var process = Start(args);
        if (stdin is not null)
        {
            await process.Process.StandardInput.BaseStream.WriteAsync(stdin);
        }
        process.Process.StandardInput.Close();
        var code = await process.WaitForExitAsync();
        return (code, process.StandardOutput, process.StandardError);
    }

    /// <summary>Waits for the <c>listening tcp://HOST:PORT</c> line and returns the port.</summary>
    public async Task<int> WaitForListeningPortAsync()
    {
        var uri = await _listening.Task.WaitAsync(TestTimeouts.Default);
        return int.Parse(PortPattern().Match(uri).Groups[1].Value);
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        await _process.WaitForExitAsync(TestTimeouts.Token(timeout));
        await Task.WhenAll(_stdoutPump, _stderrPump);
        return _process.ExitCode;
    }

    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    private async Task PumpAsync(StreamReader reader, StringBuilder into, bool watchListening)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (into)
            {
                into.AppendLine(line);
            }
            if (watchListening && line.Contains("listening ", StringComparison.Ordinal))
            {
                _listening.TrySetResult(line);
            }
        }
        _listening.TrySetException(new InvalidOperationException($"echokit exited without a listening line; stderr: {StandardError}"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        await Task.WhenAll(_stdoutPump, _stderrPump);
        _process.Dispose();
    }

    [GeneratedRegex(@"://[^\s""]*:(\d+)")]
    private static partial Regex PortPattern();
}
