using System.Net;
using System.Net.Sockets;

namespace EchoKit.Ping.Internal;

/// <summary>
/// One echo connection shared by overlapping probes. Probes are written whole, one at a time; TCP keeps them in order,
/// so each echo read is checked against the oldest probe not yet echoed. A probe that timed out stays in that queue:
/// its echo, if it still comes, is counted late. The connection closes (the next probe reconnects) when the server
/// closes or resets it, an echo does not match, or the newest waiting probe times out with nothing received since it
/// was sent.
/// </summary>
internal sealed class EchoConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly TimeProvider _time;
    private readonly IPingEvents _events;
    private readonly ulong _tag;
    private readonly int _size;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, TaskCompletionSource<EchoAnswer>> _waiting = [];
    private readonly Queue<(long Sequence, long SentAt)> _unechoed = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _sendBuffer;
    private Task _receiving = Task.CompletedTask;
    private long _lastReceivedAt;
    private string? _closedReason;

    public EchoConnection(Socket socket, Stream stream, EndPoint remote, TimeProvider time, IPingEvents events, ulong tag, int size)
    {
        _socket = socket;
        _stream = stream;
        Remote = remote;
        _time = time;
        _events = events;
        _tag = tag;
        _size = size;
        _sendBuffer = new byte[size];
    }

    public EndPoint Remote { get; }

    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _closedReason is null;
            }
        }
    }

    public void Start() => _receiving = ReceiveAsync();

    /// <summary>
    /// Sends probe <paramref name="sequence"/> and waits for its echo until <paramref name="probeToken"/> (the probe's
    /// timeout, or the stop) fires. Null when the connection had closed before the probe went out (e.g. an earlier
    /// probe's timeout found it silent just now): nothing was sent, so the caller may try a new connection.
    /// </summary>
    public async Task<ProbeOutcome?> ProbeAsync(long sequence, CancellationToken probeToken, CancellationToken stop)
    {
        var answer = new TaskCompletionSource<EchoAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        long sentAt;
        try
        {
            await _sendLock.WaitAsync(probeToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return ProbeOutcome.Failed(PingStatus.Timeout, "timed out waiting to send", Remote);
        }
        try
        {
            ProbeFrame.Write(_sendBuffer, _tag, sequence);
            lock (_gate)
            {
                if (_closedReason is not null)
                {
                    return null;
                }
                // The clock starts just before send(); the echo cannot arrive before this is recorded.
                sentAt = _time.GetTimestamp();
                _waiting[sequence] = answer;
                _unechoed.Enqueue((sequence, sentAt));
            }
            await _stream.WriteAsync(_sendBuffer, probeToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // Part of the probe may have gone out: the stream's framing is lost.
            Close("sending stalled for the whole timeout", failWaiting: false);
            return ProbeOutcome.Failed(PingStatus.Timeout, "timed out sending", Remote);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            var reason = ProbeSockets.Reason(ex);
            Close(reason, failWaiting: true);
            return ProbeOutcome.Failed(PingStatus.Error, reason, Remote);
        }
        finally
        {
            _sendLock.Release();
        }

        EchoAnswer result;
        try
        {
            result = await answer.Task.WaitAsync(probeToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            bool stalled;
            lock (_gate)
            {
                _waiting.Remove(sequence);
                // Later probes still waiting get their own chance; the last one to give up closes a silent connection.
                stalled = _lastReceivedAt < sentAt && _waiting.Count == 0;
            }
            if (answer.Task.IsCompletedSuccessfully)
            {
                // The echo and the timeout came together: the echo was first to be recorded.
                result = answer.Task.Result;
            }
            else
            {
                if (stalled)
                {
                    // Nothing at all came back since this probe went out: the path may be gone (a failover,
                    // a dead host); later probes try a new connection instead of waiting on this one.
                    Close("no echo within the timeout", failWaiting: false);
                }
                return ProbeOutcome.Failed(PingStatus.Timeout, "timed out", Remote);
            }
        }
        return result.Status == PingStatus.Ok
            ? ProbeOutcome.Ok(_time.GetElapsedTime(sentAt, result.ArrivedAt), Remote)
            : ProbeOutcome.Failed(result.Status, result.Detail ?? "failed", Remote);
    }

    private async Task ReceiveAsync()
    {
        var frame = new byte[_size];
        try
        {
            while (true)
            {
                var got = 0;
                while (got < _size)
                {
                    var read = await _stream.ReadAsync(frame.AsMemory(got)).ConfigureAwait(false);
                    if (read == 0)
                    {
                        Close("connection closed by the server", failWaiting: true);
                        return;
                    }
                    got += read;
                    Interlocked.Exchange(ref _lastReceivedAt, _time.GetTimestamp());
                }
                if (!Deliver(frame, Interlocked.Read(ref _lastReceivedAt)))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Close(ProbeSockets.Reason(ex), failWaiting: true);
        }
    }

    /// <summary>Matches one echoed frame with the oldest probe not yet echoed; false when the connection must close.</summary>
    private bool Deliver(byte[] frame, long arrivedAt)
    {
        PingStray? stray = null;
        string? reason = null; // set when this frame ends the connection
        TaskCompletionSource<EchoAnswer>[]? closing = null;
        lock (_gate)
        {
            var difference = 0;
            TaskCompletionSource<EchoAnswer>? waiting = null;
            if (!_unechoed.TryDequeue(out var expected))
            {
                stray = new PingStray(PingStrayKind.Mismatch, 0, null);
                reason = "the server sent bytes that were never sent to it";
            }
            else
            {
                difference = ProbeFrame.FirstDifference(frame, _tag, expected.Sequence, _size);
                if (!_waiting.Remove(expected.Sequence, out waiting))
                {
                    stray = new PingStray(difference < 0 ? PingStrayKind.Late : PingStrayKind.Mismatch, expected.Sequence, _time.GetElapsedTime(expected.SentAt, arrivedAt));
                }
                if (difference >= 0)
                {
                    reason = $"echo mismatch at byte {difference}";
                }
            }
            if (reason is not null)
            {
                // The close is claimed before the probe hears its answer: a next probe, sent as soon as this one has
                // heard, finds the connection closed and opens another instead of being sent here and then failed by
                // this close.
                closing = ClaimCloseLocked(reason, failWaiting: true);
            }
            waiting?.TrySetResult(difference < 0
                ? new EchoAnswer(PingStatus.Ok, arrivedAt, null)
                : new EchoAnswer(PingStatus.Mismatch, arrivedAt, $"mismatch at byte {difference}"));
        }
        if (stray is not null)
        {
            _events.Stray(stray);
        }
        if (reason is null)
        {
            return true;
        }
        if (closing is not null) // null: it was already closed
        {
            FinishClose(closing, reason, goodbye: false);
        }
        return false;
    }

    /// <summary>
    /// Closes once. <paramref name="failWaiting"/> settles the probes still waiting with the reason (the connection
    /// died under them); otherwise they time out on their own timers.
    /// </summary>
    public void Close(string reason, bool failWaiting) => Close(reason, failWaiting, goodbye: false);

    /// <param name="reason">Why, for the report.</param>
    /// <param name="failWaiting">Settle the probes still waiting with the reason.</param>
    /// <param name="goodbye">
    /// Our own end of the run: say goodbye with a FIN and report nothing. The close is claimed before the FIN goes, so
    /// the receive loop, which sees its read end when the socket shuts down, finds it closed and reports nothing
    /// either (it used to win that race now and then, and `ping` ended a clean run with "connection lost").
    /// </param>
    private void Close(string reason, bool failWaiting, bool goodbye)
    {
        TaskCompletionSource<EchoAnswer>[]? failed;
        lock (_gate)
        {
            failed = ClaimCloseLocked(reason, failWaiting);
        }
        if (failed is not null)
        {
            FinishClose(failed, reason, goodbye);
        }
    }

    /// <summary>
    /// Marks the connection closed (under <c>_gate</c>), so no probe is sent on it from now on; null when it already
    /// was. Returns the probes to fail (all still waiting when <paramref name="failWaiting"/>, else none).
    /// </summary>
    private TaskCompletionSource<EchoAnswer>[]? ClaimCloseLocked(string reason, bool failWaiting)
    {
        if (_closedReason is not null)
        {
            return null;
        }
        _closedReason = reason;
        var failed = failWaiting ? _waiting.Values.ToArray() : [];
        if (failWaiting)
        {
            _waiting.Clear();
        }
        return failed;
    }

    /// <summary>The rest of a close claimed by <see cref="ClaimCloseLocked"/>, outside the lock.</summary>
    private void FinishClose(TaskCompletionSource<EchoAnswer>[] failed, string reason, bool goodbye)
    {
        foreach (var waiting in failed)
        {
            waiting.TrySetResult(new EchoAnswer(PingStatus.Error, 0, reason));
        }
        if (goodbye)
        {
            try
            {
                // Closing with the receive still pending would reset the connection, and the server would log every
                // finished ping as a reset.
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset: nothing to say goodbye to.
            }
        }
        // Ends the receive loop's read; the stream is disposed once the loop has ended.
        _socket.Dispose();
        if (!goodbye)
        {
            _events.Disconnected(reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The end of a run (or a connection already closed for a reason it reported).
        Close("closed", failWaiting: true, goodbye: true);
        await _receiving.ConfigureAwait(false);
        // The send lock is not disposed: a probe of a connection closed under it may still be leaving it.
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
