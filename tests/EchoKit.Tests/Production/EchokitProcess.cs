using System.Diagnostics;

namespace EchoKit.Tests.Production;

/// <summary>Runs the real <c>echokit</c> program (echokit.dll next to the tests) as a child process.</summary>
public sealed class EchokitProcess : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly object _lock = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    private EchokitProcess(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "echokit.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Line(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Line(_stderr, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static EchokitProcess Start(params string[] args) => new(args);

    /// <summary>Runs to the end: exit code, stdout, stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        await using var process = Start(args);
        var code = await process.WaitForExitAsync();
        return (code, process.Stdout, process.Stderr);
    }

    public string Stdout
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _stdout);
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>The first stdout line (already printed or to come) that matches.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var found = _stdout.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }
            _waiters.Add((match, done));
        }
        try
        {
            return await done.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no such line; stdout: {Stdout}; stderr: {Stderr}");
        }
    }

    /// <summary>Sends SIGTERM, as systemd or Kubernetes would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Timeout);
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);
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

    private void Line(List<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }
        List<TaskCompletionSource<string>> ready = [];
        lock (_lock)
        {
            lines.Add(line);
            if (ReferenceEquals(lines, _stdout))
            {
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(line))
                    {
                        ready.Add(_waiters[i].Done);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }
        foreach (var done in ready)
        {
            done.TrySetResult(line);
        }
    }
}
