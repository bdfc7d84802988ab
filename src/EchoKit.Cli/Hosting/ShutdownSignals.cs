using System.Runtime.InteropServices;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Turns SIGINT (Ctrl+C) and SIGTERM into two steps: the first asks for a graceful stop, a second one for an
/// immediate stop. The library never reads signals itself; the program wires them in here.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _immediate = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;

    public ShutdownSignals()
    {
        _registrations =
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

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the runtime from terminating the process: we stop in order instead.
        context.Cancel = true;
        if (Interlocked.Increment(ref _count) == 1)
        {
            _first.TrySetResult();
            _firstToken.Cancel();
        }
        else
        {
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
