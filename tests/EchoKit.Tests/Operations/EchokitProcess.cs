using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace EchoKit.Tests.Operations;

/// <summary>
/// The echokit program run as a process (<c>dotnet echokit.dll ARGS</c>, next to the test assembly), with its
/// output lines readable as they come, so tests await events ("listening ...") instead of sleeping.
/// </summary>
internal sealed partial class EchokitProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly List<string> _stdoutLines = [];
    private readonly List<string> _stderrLines = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EchokitProcess(Process process) => _process = process;

    public static EchokitProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
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
        // A clean slate: ECHOKIT_* variables of the machine running the tests must not leak in.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ECHOKIT_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var result = new EchokitProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                result._stdout.Writer.TryComplete();
                result._stdoutClosed.TrySetResult();
                return;
            }
            lock (result._stdoutLines)
            {
                result._stdoutLines.Add(e.Data);
            }
            result._stdout.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                result._stderrClosed.TrySetResult();
                return;
            }
            lock (result._stderrLines)
            {
                result._stderrLines.Add(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs echokit to the end: exit code, stdout, stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var process = Start(args, environment);
        var code = await process.WaitForExitAsync();
        return (code, process.Stdout, process.Stderr);
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdoutLines)
            {
                return string.Join('\n', _stdoutLines);
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderrLines)
            {
                return string.Join('\n', _stderrLines);
            }
        }
    }

    /// <summary>Waits for the next stdout line matching <paramref name="pattern"/>, skipping others.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await foreach (var line in _stdout.Reader.ReadAllAsync(timeout.Token))
            {
                var match = pattern.Match(line);
                if (match.Success)
                {
                    return match;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Fall through to the failure below, with the output for diagnosis.
        }
        throw new Xunit.Sdk.XunitException($"no line matched {pattern}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Waits for every <c>listening</c> line up to <paramref name="count"/> and returns their URIs.</summary>
    public async Task<IReadOnlyList<Uri>> WaitForListenersAsync(int count)
    {
        var uris = new List<Uri>();
        while (uris.Count < count)
        {
            var match = await WaitForLineAsync(ListeningLine());
            uris.Add(new Uri(match.Groups[1].Value));
        }
        return uris;
    }

    /// <summary>Sends SIGTERM, as Kubernetes and systemd do to stop the service.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _process.WaitForExitAsync(timeout.Token);
        // Both pipes end after the process: wait for their last lines too.
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    // Text ("listening tcp://...") and JSON ("message":"listening tcp://...") lines alike.
    [GeneratedRegex(@"listening ([a-z]+://[^\s""]+)")]
    private static partial Regex ListeningLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
