using System.Runtime.InteropServices;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM (and, for a server, SIGHUP) into two steps: the first asks for a graceful stop,
/// a second one for an immediate stop. The library never reads signals itself; the program wires them in here.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _immediate = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;
    private int _firstExitCode;
    private int _secondExitCode;

    /// <param name="hangup">
    /// Also stop gracefully on SIGHUP, which would otherwise kill the process at once: a server run in a terminal that
    /// closes drains and removes its Unix socket files as on SIGTERM. Servers only: a client killed with its terminal
    /// has nothing to finish. Under <c>nohup</c> SIGHUP stays ignored (the runtime keeps an ignored signal ignored).
    /// </param>
    public ShutdownSignals(bool hangup = false)
    {
        _registrations = hangup
            ?
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal),
            ]
            :
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            ];
    }

    /// <summary>Completes at the first signal: stop gracefully.</summary>
    public Task Requested => _first.Task;

    /// <summary>Cancelled at the first signal (for operations that simply end on Ctrl+C).</summary>
    public CancellationToken RequestedToken => _firstToken.Token;

    /// <summary>Cancelled at the second signal: stop at once.</summary>
    public CancellationToken Immediate => _immediate.Token;

    private readonly CancellationTokenSource _firstToken = new();

    /// <summary>
    /// The shell's exit code for the first signal: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP (128 + the signal number), so a
    /// client stopped by a signal says so as a killed process would; 0 while no signal came.
    /// </summary>
    public int ExitCode => Volatile.Read(ref _firstExitCode);

    /// <summary>The exit code for the second signal, the one that forced an immediate stop; 0 while none came.</summary>
    public int ForcedExitCode => Volatile.Read(ref _secondExitCode);

    /// <summary>128 + the signal number, as shells report a process killed by it.</summary>
    public static int ExitCodeOf(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => 130,
        PosixSignal.SIGTERM => 143,
        PosixSignal.SIGQUIT => 131,
        PosixSignal.SIGHUP => 129,
        _ => 128,
    };

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the runtime from terminating the process: we stop in order instead.
        context.Cancel = true;
        if (Interlocked.Increment(ref _count) == 1)
        {
            Volatile.Write(ref _firstExitCode, ExitCodeOf(context.Signal));
            _first.TrySetResult();
            _firstToken.Cancel();
        }
        else
        {
            Interlocked.CompareExchange(ref _secondExitCode, ExitCodeOf(context.Signal), 0);
            _immediate.Cancel();
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _immediate.Dispose();
        _firstToken.Dispose();
    }
}
