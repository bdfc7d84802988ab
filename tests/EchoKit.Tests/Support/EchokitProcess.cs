using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace EchoKit.Tests.Support;

/// <summary>
/// The <c>echokit</c> program run as a child process (<c>dotnet echokit.dll ARGS</c>, next to the test assembly), as
/// a user would. Stdin is a pipe the test writes to and closes; stdout is kept as the exact bytes and also split into
/// lines as they come, so tests await events ("listening ...", a string, the exit) with a timeout instead of sleeping.
/// </summary>
/// <remarks>
/// Every wait is bounded by the timeout given at start (<see cref="TestTimeouts.Default"/> unless the test asks for
/// another) and fails the test with both outputs, so a hung or silent program is diagnosed rather than waited on.
/// </remarks>
internal sealed partial class EchokitProcess : IAsyncDisposable
{
    /// <summary>SIGINT, what Ctrl+C in a terminal sends.</summary>
    public const int SigInt = 2;

    /// <summary>SIGTERM, what systemd and Kubernetes send to stop a service.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGHUP, what a closing terminal sends to the programs it ran.</summary>
    public const int SigHup = 1;

    private const string Setpriv = "/usr/bin/setpriv";

    private readonly Process _process;
    private readonly TimeSpan _timeout;
    private readonly Lock _gate = new();
    private readonly MemoryStream _stdout = new();
    private readonly MemoryStream _stderr = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _partialLine = new();
    private readonly Decoder _lineDecoder = Encoding.UTF8.GetDecoder();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stdoutEnded;
    private bool _stderrEnded;
    // The next stdout line WaitForLineAsync looks at: each line is handed out (or skipped) once.
    private int _cursor;

    private EchokitProcess(Process process, TimeSpan timeout)
    {
        _process = process;
        _timeout = timeout;
        _stdoutPump = PumpAsync(process.StandardOutput.BaseStream, isStdout: true);
        _stderrPump = PumpAsync(process.StandardError.BaseStream, isStdout: false);
    }

    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, "echokit.dll");

    /// <summary>The bound on every wait of this process.</summary>
    public TimeSpan Timeout => _timeout;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything written to stdout so far, byte for byte.</summary>
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

    /// <summary>Everything written to stdout so far, as UTF-8 text, newlines as written.</summary>
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    /// <summary>Everything written to stderr so far, as UTF-8 text, newlines as written.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return Encoding.UTF8.GetString(_stderr.GetBuffer(), 0, (int)_stderr.Length);
            }
        }
    }

    /// <summary>Starts <c>echokit ARGS</c>.</summary>
    public static EchokitProcess Start(params string[] args) => Start(args, environment: null);

    /// <summary>
    /// Starts <c>echokit ARGS</c> with <paramref name="environment"/> added to a clean slate (no <c>ECHOKIT_*</c>
    /// variable of the machine running the tests leaks in); every wait is bounded by <paramref name="timeout"/>.
    /// </summary>
    public static EchokitProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
        => Start(args, environment, timeout ?? TestTimeouts.Default, unprivileged: false);

    /// <summary>
    /// Starts <c>WRAPPER... dotnet echokit.dll ARGS</c>: the program run through another command that then executes
    /// it, e.g. <c>ip netns exec NS</c> to run it inside a network namespace (the namespace lab tests).
    /// </summary>
    public static EchokitProcess StartWrapped(IReadOnlyList<string> wrapper, IEnumerable<string> args, TimeSpan? timeout = null)
        => Start(args, null, timeout ?? TestTimeouts.Default, unprivileged: false, wrapper);

    /// <summary>Runs <c>WRAPPER... dotnet echokit.dll ARGS</c> to its end (see <see cref="StartWrapped"/>).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunWrappedAsync(IReadOnlyList<string> wrapper, IEnumerable<string> args, TimeSpan? timeout = null)
        => RunToEndAsync(StartWrapped(wrapper, args, timeout), null, CancellationToken.None);

    /// <summary>
    /// Runs <c>echokit ARGS | head -n LINES</c> to its end, as <c>bash -c 'set -o pipefail; ...'</c>: the exit code is
    /// the program's (head's is 0), standard output what head let through, standard error the program's.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunIntoHeadAsync(int lines, IEnumerable<string> args)
        => RunWrappedAsync(["bash", "-c", $"set -o pipefail; \"$@\" | head -n {lines}", "bash"], args);

    /// <summary>
    /// Runs <c>echokit ARGS REDIRECTIONS</c> to its end through <c>bash -c</c>, e.g. with <c>&gt; /dev/full</c>, or with
    /// <c>&gt;&amp;-</c> or <c>&lt;&amp;-</c> to start it with standard output or input closed, as a user's shell can;
    /// standard output and error are captured unless the redirections send them elsewhere.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunRedirectedAsync(string redirections, IEnumerable<string> args)
        => RunWrappedAsync(["bash", "-c", $"exec \"$@\" {redirections}", "bash"], args);

    /// <summary>
    /// Runs <c>echokit ARGS</c> to its end with a terminal (a pseudo-terminal that python3's pty module opens) as its
    /// standard input, output and error, as a user at a shell runs it; returns the exit code and everything the
    /// terminal received (the terminal turns each "\n" into "\r\n"). Nothing is typed at it. TERM is xterm-256color.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunOnTerminalAsync(IEnumerable<string> args)
        => RunWrappedAsync(["python3", "-c", OnTerminal, "to-the-end"], args);

    /// <summary>
    /// Runs <c>echokit ARGS</c> on a pseudo-terminal (as <see cref="RunOnTerminalAsync"/>) until it has written a line
    /// with "listening", then closes the terminal, as a user closing the window does: the kernel hangs it up and sends
    /// SIGHUP, and later writes to it fail (EIO). Returns the exit code and what the terminal received before.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunOnTerminalThenCloseItAsync(IEnumerable<string> args)
        => RunWrappedAsync(["python3", "-c", OnTerminal, "close-once-listening"], args);

    // Runs argv[2:] on a new pseudo-terminal and reads what it writes: to its end, or (argv[1] close-once-listening)
    // until a whole line with "listening", then closes the terminal. Copies what it read to stdout once the program
    // has ended, and exits with its exit code.
    private const string OnTerminal = """
        import os, pty, sys
        mode, command = sys.argv[1], sys.argv[2:]
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"  # a terminal with a terminfo entry, as a user's is
            os.execvp(command[0], command)
        seen = b""
        while not (mode == "close-once-listening" and b"listening" in seen and seen.endswith(b"\n")):
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
        if mode == "close-once-listening":
            os.close(fd)  # the terminal goes away: SIGHUP to its session
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(seen)
        sys.exit(os.waitstatus_to_exitcode(status))
        """;

    /// <summary>Runs <c>echokit ARGS</c> to its end with stdin closed at once; returns the exit code and both outputs.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(args, environment: null);

    /// <summary>
    /// Runs <c>echokit ARGS</c> to its end: writes <paramref name="stdin"/> (if any), closes stdin, waits for the exit
    /// within <paramref name="timeout"/>; returns the exit code and both outputs.
    /// </summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        byte[]? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => RunToEndAsync(Start(args, environment, timeout ?? TestTimeouts.Default, unprivileged: false), stdin, cancellationToken);

    /// <summary>
    /// Runs <c>echokit ARGS</c> to its end as the unprivileged user nobody (through setpriv, which needs root);
    /// null when that is not possible here.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)?> RunUnprivilegedAsync(params string[] args)
    {
        if (Environment.UserName != "root" || !File.Exists(Setpriv))
        {
            return null;
        }
        return await RunToEndAsync(Start(args, null, TestTimeouts.Default, unprivileged: true), null, CancellationToken.None);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(EchokitProcess started, byte[]? stdin, CancellationToken cancellationToken)
    {
        await using var process = started;
        if (stdin is not null)
        {
            await process.WriteAsync(stdin, cancellationToken);
        }
        process.CloseInput();
        var code = await process.WaitForExitAsync(cancellationToken: cancellationToken);
        return (code, process.Stdout, process.Stderr);
    }

    private static EchokitProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, bool unprivileged,
        IReadOnlyList<string>? wrapper = null)
    {
        List<string> command = [.. DefaultSignals];
        if (wrapper is { Count: > 0 })
        {
            command.AddRange(wrapper);
        }
        else if (unprivileged)
        {
            command.AddRange([Setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]);
        }
        command.AddRange(["dotnet", ProgramPath, .. args]);
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }
        // A clean slate: ECHOKIT_* variables of the machine running the tests must not change what a test sees.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ECHOKIT_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return new EchokitProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start"), timeout);
    }

    /// <summary>
    /// <c>env --default-signal=INT,QUIT,HUP</c> when the tests themselves run with SIGINT, SIGQUIT or SIGHUP ignored, else
    /// nothing. Started from a background job (<c>nohup</c>, <c>cmd &amp;</c> in a script) the test run inherits them
    /// ignored, and so would every echokit it starts, which then rightly ignores them, as nohup asks. The tests that
    /// send them stand for a user at a shell, whose commands get the default dispositions: this gives those back.
    /// </summary>
    private static readonly string[] DefaultSignals = InteractiveSignalsIgnored() ? ["env", "--default-signal=INT,QUIT,HUP"] : [];

    private static bool InteractiveSignalsIgnored()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            const ulong SighupSigintAndSigquit = (1UL << (1 - 1)) | (1UL << (2 - 1)) | (1UL << (3 - 1));
            return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & SighupSigintAndSigquit) != 0;
        }
        catch (IOException)
        {
            return false; // not Linux: nothing to correct
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to stdin and flushes them, so the program sees them now.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await _process.StandardInput.BaseStream.WriteAsync(bytes, cancellationToken);
        await _process.StandardInput.BaseStream.FlushAsync(cancellationToken);
    }

    /// <summary>Writes <paramref name="text"/> to stdin as UTF-8 and flushes it.</summary>
    public Task WriteAsync(string text, CancellationToken cancellationToken = default) => WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);

    /// <summary>Ends standard input (what Ctrl+D does in a terminal, or the end of a pipe).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends <paramref name="signal"/> to the program; fails the test if it cannot be sent.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            Assert.Fail($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends SIGTERM, as systemd or Kubernetes would.</summary>
    public void Terminate() => Signal(SigTerm);

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public void Interrupt() => Signal(SigInt);

    /// <summary>
    /// Waits for the next stdout line matching <paramref name="pattern"/>, after the lines earlier calls handed out;
    /// lines that do not match are skipped for good.
    /// </summary>
    public Task<Match> WaitForLineAsync(Regex pattern, CancellationToken cancellationToken = default)
        => WaitUntilAsync(() =>
        {
            for (; _cursor < _lines.Count; _cursor++)
            {
                var match = pattern.Match(_lines[_cursor]);
                if (match.Success)
                {
                    _cursor++;
                    return match;
                }
            }
            return null;
        }, () => _stdoutEnded, $"a stdout line matching {pattern}", cancellationToken);

    /// <summary>
    /// Waits for the first stdout line, already printed or to come, that matches <paramref name="pattern"/>, whatever
    /// other waits have seen (for lines whose order the program does not promise).
    /// </summary>
    public Task<Match> FindLineAsync(Regex pattern, CancellationToken cancellationToken = default)
        => WaitUntilAsync(() =>
        {
            foreach (var line in _lines)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }
            return null;
        }, () => _stdoutEnded, $"a stdout line matching {pattern}", cancellationToken);

    /// <summary>Reads the next stdout line (like <see cref="WaitForLineAsync"/> with any line); null at the end of stdout.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        var line = await WaitUntilAsync(() => _cursor < _lines.Count ? new Box(_lines[_cursor++]) : _stdoutEnded ? new Box(null) : null,
            () => false, "a stdout line", cancellationToken);
        return line.Value;
    }

    /// <summary>Waits for the <c>listening</c> lines up to <paramref name="count"/> (text or JSON logs) and returns their URIs.</summary>
    public async Task<IReadOnlyList<Uri>> WaitForListenersAsync(int count, CancellationToken cancellationToken = default)
    {
        var uris = new List<Uri>();
        while (uris.Count < count)
        {
            var match = await WaitForLineAsync(ListeningLine(), cancellationToken);
            uris.Add(new Uri(match.Groups[1].Value));
        }
        return uris;
    }

    /// <summary>Waits for the first <c>listening</c> line and returns its port.</summary>
    public async Task<int> WaitForListeningPortAsync(CancellationToken cancellationToken = default)
        => (await WaitForListenersAsync(1, cancellationToken))[0].Port;

    /// <summary>Waits until stdout so far contains <paramref name="text"/>, anywhere (not only within one line).</summary>
    public Task WaitForStdoutAsync(string text, CancellationToken cancellationToken = default)
        => WaitUntilAsync(() => ContainsLocked(_stdout, text) ? new Box(null) : null, () => _stdoutEnded, $"stdout to contain '{text}'", cancellationToken);

    /// <summary>Waits until stderr so far contains <paramref name="text"/>.</summary>
    public Task WaitForStderrAsync(string text, CancellationToken cancellationToken = default)
        => WaitUntilAsync(() => ContainsLocked(_stderr, text) ? new Box(null) : null, () => _stderrEnded, $"stderr to contain '{text}'", cancellationToken);

    /// <summary>
    /// Waits for the exit within <paramref name="timeout"/> (the start's timeout if null) and then for the end of
    /// both outputs; fails the test if either takes longer. Returns the exit code.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? _timeout;
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(limit, cancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"echokit did not exit within {limit.TotalSeconds}s; stdout: {Stdout}; stderr: {Stderr}");
        }
        try
        {
            // Both pipes end after the process: their last bytes belong to what the test checks.
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(_timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"echokit exited but its output did not end within {_timeout.TotalSeconds}s; stdout: {Stdout}; stderr: {Stderr}");
        }
        return _process.ExitCode;
    }

    /// <summary>Kills the program (and its children) if it still runs, then waits for it and for its output pumps.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync().WaitAsync(_timeout);
        await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(_timeout);
        _process.Dispose();
    }

    /// <summary>
    /// Evaluates <paramref name="probe"/> under the lock each time output arrives, until it gives a result; fails the
    /// test when <paramref name="ended"/> says no more output can come, or after the timeout.
    /// </summary>
    private async Task<T> WaitUntilAsync<T>(Func<T?> probe, Func<bool> ended, string what, CancellationToken cancellationToken)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
                if (probe() is { } found)
                {
                    return found;
                }
                if (ended())
                {
                    break;
                }
            }
            var left = _timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"timed out after {_timeout.TotalSeconds}s waiting for {what}; stdout: {Stdout}; stderr: {Stderr}");
            }
            try
            {
                await changed.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The deadline check above turns this into the failure, with the output for diagnosis.
            }
        }
        Assert.Fail($"echokit's output ended before {what}; stdout: {Stdout}; stderr: {Stderr}");
        throw new UnreachableException();
    }

    private static bool ContainsLocked(MemoryStream stream, string text)
        => Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length).Contains(text, StringComparison.Ordinal);

    private async Task PumpAsync(Stream stream, bool isStdout)
    {
        var bytes = new byte[4096];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        int read;
        do
        {
            read = await stream.ReadAsync(bytes);
            TaskCompletionSource changed;
            lock (_gate)
            {
                if (isStdout)
                {
                    _stdout.Write(bytes, 0, read);
                    var count = _lineDecoder.GetChars(bytes, 0, read, chars, 0, flush: read == 0);
                    SplitLinesLocked(chars.AsSpan(0, count), ended: read == 0);
                    _stdoutEnded = read == 0;
                }
                else
                {
                    _stderr.Write(bytes, 0, read);
                    _stderrEnded = read == 0;
                }
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }
        while (read > 0);
    }

    // Lines as StreamReader.ReadLine gives them: split at '\n', a '\r' before it dropped, a last unfinished line kept.
    private void SplitLinesLocked(ReadOnlySpan<char> chars, bool ended)
    {
        int newline;
        while ((newline = chars.IndexOf('\n')) >= 0)
        {
            _partialLine.Append(chars[..newline]);
            if (_partialLine.Length > 0 && _partialLine[^1] == '\r')
            {
                _partialLine.Length--;
            }
            _lines.Add(_partialLine.ToString());
            _partialLine.Clear();
            chars = chars[(newline + 1)..];
        }
        _partialLine.Append(chars);
        if (ended && _partialLine.Length > 0)
        {
            _lines.Add(_partialLine.ToString());
            _partialLine.Clear();
        }
    }

    /// <summary>A found result that may itself be null (a line at the end of stdout, or a condition with no value).</summary>
    private sealed record Box(string? Value);

    // Text ("listening tcp://...") and JSON ("message":"listening tcp://...") lines alike; any URI scheme (reflect+udp://...).
    [GeneratedRegex(@"listening ([a-z][a-z0-9+.-]*://[^\s""]+)")]
    private static partial Regex ListeningLine();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
