using System.Diagnostics;
using System.Text;

namespace EchoKit.Tests.Connect;

/// <summary>
/// Runs <c>echokit connect ARGS</c> as a process with piped stdin, stdout and stderr, collects the output as it
/// comes, and lets a test wait for output or for the exit with a timeout (never by sleeping).
/// </summary>
internal sealed class ConnectProcess : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly MemoryStream _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ConnectProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(PumpStdoutAsync(), PumpStderrAsync());
    }

    public static ConnectProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "echokit.dll"));
        start.ArgumentList.Add("connect");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new ConnectProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    public byte[] StdoutBytes
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToArray();
            }
        }
    }

    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public async Task WriteAsync(string text)
    {
        await _process.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _process.StandardInput.BaseStream.FlushAsync();
    }

    /// <summary>Ends standard input (what Ctrl+D does in a terminal, or the end of a pipe).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    public Task WaitForStdoutAsync(string text) => WaitUntilAsync(() => Stdout.Contains(text, StringComparison.Ordinal), $"stdout to contain '{text}'");

    public Task WaitForStderrAsync(string text) => WaitUntilAsync(() => Stderr.Contains(text, StringComparison.Ordinal), $"stderr to contain '{text}'");

    /// <summary>Waits for the exit (and the end of its output); fails the test if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? Patience);
            await _pumps.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"echokit connect did not exit within {(timeout ?? Patience).TotalSeconds}s; stdout: {Stdout}; stderr: {Stderr}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(Patience);
        Assert.Equal(0, kill.ExitCode);
    }

    private async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }
            if (condition())
            {
                return;
            }
            if (_process.HasExited && _pumps.IsCompleted)
            {
                Assert.Fail($"echokit connect exited ({_process.ExitCode}) before {what}; stdout: {Stdout}; stderr: {Stderr}");
            }
            var left = Patience - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"timed out waiting for {what}; stdout: {Stdout}; stderr: {Stderr}");
            }
            await Task.WhenAny(changed, _pumps).WaitAsync(left).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private void Signal()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            done = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    private async Task PumpStdoutAsync()
    {
        var buffer = new byte[4096];
        var stream = _process.StandardOutput.BaseStream;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lock (_gate)
            {
                _stdout.Write(buffer, 0, read);
            }
            Signal();
        }
        Signal();
    }

    private async Task PumpStderrAsync()
    {
        var buffer = new char[1024];
        int read;
        while ((read = await _process.StandardError.ReadAsync(buffer)) > 0)
        {
            lock (_gate)
            {
                _stderr.Append(buffer, 0, read);
            }
            Signal();
        }
        Signal();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync().WaitAsync(Patience);
        await _pumps.WaitAsync(Patience);
        _process.Dispose();
    }
}
