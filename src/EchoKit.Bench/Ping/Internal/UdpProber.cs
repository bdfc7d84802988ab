using System.Net;
using System.Net.Sockets;

namespace EchoKit.Ping.Internal;

/// <summary>
/// UDP mode: one datagram per probe over one socket connected to the target (so the kernel drops datagrams from any
/// other source and reports ICMP port unreachable as refused). Answers are matched by the sequence number they carry:
/// one for a probe that already timed out is late, a second copy is a duplicate, one older than an answer already
/// seen is reordered (and still counts).
/// </summary>
internal sealed class UdpProber : IProber
{
    // Probes remembered for matching answers: older answers than this many probes back are counted as late.
    private const int Window = 1 << 16;
    private const byte Unused = 0, Waiting = 1, Answered = 2, Expired = 3;

    private readonly PingOptions _options;
    private readonly TimeProvider _time;
    private readonly IPingEvents _events;
    private readonly PingTarget _target;
    private readonly ulong _tag;
    private readonly Lock _gate = new();
    private readonly long[] _sequences = new long[Window];
    private readonly long[] _sentAt = new long[Window];
    private readonly byte[] _states = new byte[Window];
    private readonly Dictionary<long, TaskCompletionSource<EchoAnswer>> _waiting = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _sendBuffer;
    private readonly CancellationTokenSource _disposed = new();
    private readonly List<Task> _receiveLoops = [];
    private readonly List<Socket> _sockets = [];
    private Socket? _socket;
    private EndPoint? _socketTarget;
    private long _highestAnswered;
    private long _lastSent;

    public UdpProber(PingOptions options, TimeProvider time, IPingEvents events, PingTarget target, ulong tag)
    {
        _options = options;
        _time = time;
        _events = events;
        _target = target;
        _tag = tag;
        _sendBuffer = new byte[options.Size];
    }

    public async Task<ProbeOutcome> ProbeAsync(long sequence, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        var (found, lookupFailure) = await _target.TryForProbeAsync(sequence, probe.Token, stop).ConfigureAwait(false);
        if (found is not { } address)
        {
            return lookupFailure;
        }
        Socket socket;
        try
        {
            socket = SocketFor(address, sequence);
        }
        catch (SocketException ex)
        {
            return ProbeSockets.Describe(ex.SocketErrorCode, address);
        }

        var answer = new TaskCompletionSource<EchoAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slot = (int)(sequence & (Window - 1));
        long sentAt;
        try
        {
            await _sendLock.WaitAsync(probe.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return ProbeOutcome.Failed(PingStatus.Timeout, "timed out waiting to send", address);
        }
        try
        {
            ProbeFrame.Write(_sendBuffer, _tag, sequence);
            lock (_gate)
            {
                _sequences[slot] = sequence;
                _states[slot] = Waiting;
                _waiting[sequence] = answer;
                _lastSent = Math.Max(_lastSent, sequence);
                sentAt = _time.GetTimestamp();
                _sentAt[slot] = sentAt;
            }
            await socket.SendAsync(_sendBuffer, SocketFlags.None, probe.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException || (ex is OperationCanceledException && !stop.IsCancellationRequested))
        {
            Forget(sequence, slot);
            return ex is SocketException socketError
                ? Refine(ProbeSockets.Describe(socketError.SocketErrorCode, address))
                : ProbeOutcome.Failed(ex is OperationCanceledException ? PingStatus.Timeout : PingStatus.Error, ex is OperationCanceledException ? "timed out sending" : "socket closed", address);
        }
        finally
        {
            _sendLock.Release();
        }

        EchoAnswer result;
        try
        {
            result = await answer.Task.WaitAsync(probe.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            Forget(sequence, slot);
            if (!answer.Task.IsCompletedSuccessfully)
            {
                return ProbeOutcome.Failed(PingStatus.Timeout, "timed out", address);
            }
            result = answer.Task.Result; // the answer and the timeout came together: the answer was recorded first
        }
        return result.Status == PingStatus.Ok
            ? ProbeOutcome.Ok(_time.GetElapsedTime(sentAt, result.ArrivedAt), address)
            : ProbeOutcome.Failed(result.Status, result.Detail ?? "failed", address);
    }

    /// <summary>Marks a probe that will get no answer: an answer that still comes is late.</summary>
    private void Forget(long sequence, int slot)
    {
        lock (_gate)
        {
            _waiting.Remove(sequence);
            if (_sequences[slot] == sequence && _states[slot] == Waiting)
            {
                _states[slot] = Expired;
            }
        }
    }

    private static ProbeOutcome Refine(ProbeOutcome outcome) =>
        outcome.Status == PingStatus.Refused ? outcome with { Detail = "port unreachable (no UDP server there)" } : outcome;

    private Socket SocketFor(EndPoint address, long sequence)
    {
        lock (_gate)
        {
            if (_socket is not null && address.Equals(_socketTarget))
            {
                return _socket;
            }
        }
        var socket = ProbeSockets.Create(address, SocketType.Dgram, _options.Source);
        var started = _time.GetTimestamp();
        try
        {
            socket.Connect(address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connectTime = _time.GetElapsedTime(started);
        bool reconnect;
        lock (_gate)
        {
            if (_socket is not null && address.Equals(_socketTarget))
            {
                // Another probe opened it meanwhile.
                socket.Dispose();
                return _socket;
            }
            reconnect = _socket is not null;
            // The old socket stays open until the end: late answers to it are still counted.
            _socket = socket;
            _socketTarget = address;
            _sockets.Add(socket);
            _receiveLoops.Add(ReceiveAsync(socket));
        }
        _events.Connected(new PingConnected(socket.LocalEndPoint, address, connectTime, null, sequence, reconnect));
        return socket;
    }

    private async Task ReceiveAsync(Socket socket)
    {
        // Room for any datagram, so a longer answer is seen whole (and reported as a mismatch), not truncated.
        var buffer = new byte[65536];
        while (true)
        {
            int received;
            try
            {
                received = await socket.ReceiveAsync(buffer, SocketFlags.None, _disposed.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return; // disposed: the session is over
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException ex)
            {
                // An ICMP error for a datagram we sent (port unreachable, host unreachable): it settles the probes
                // waiting now. The socket stays usable.
                var outcome = Refine(ProbeSockets.Describe(ex.SocketErrorCode, _socketTarget));
                FailWaiting(outcome.Status, outcome.Detail!);
                continue;
            }
            Deliver(buffer.AsSpan(0, received), _time.GetTimestamp());
        }
    }

    private void FailWaiting(PingStatus status, string reason)
    {
        TaskCompletionSource<EchoAnswer>[] failed;
        lock (_gate)
        {
            failed = _waiting.Values.ToArray();
            foreach (var sequence in _waiting.Keys)
            {
                var slot = (int)(sequence & (Window - 1));
                if (_sequences[slot] == sequence)
                {
                    _states[slot] = Expired;
                }
            }
            _waiting.Clear();
        }
        foreach (var waiting in failed)
        {
            waiting.TrySetResult(new EchoAnswer(status, 0, reason));
        }
    }

    private void Deliver(ReadOnlySpan<byte> datagram, long arrivedAt)
    {
        PingStray? stray = null;
        PingStray? reordered = null;
        if (!ProbeFrame.TryReadSequence(datagram, _tag, out var sequence))
        {
            stray = new PingStray(PingStrayKind.Mismatch, 0, null);
        }
        else
        {
            var slot = (int)(sequence & (Window - 1));
            var difference = ProbeFrame.FirstDifference(datagram, _tag, sequence, _options.Size);
            lock (_gate)
            {
                if (sequence > _lastSent)
                {
                    stray = new PingStray(PingStrayKind.Mismatch, 0, null);
                }
                else if (_sequences[slot] != sequence)
                {
                    stray = new PingStray(PingStrayKind.Late, sequence, null); // so old its slot was reused
                }
                else
                {
                    var roundTrip = _time.GetElapsedTime(_sentAt[slot], arrivedAt);
                    switch (_states[slot])
                    {
                        case Waiting:
                            _states[slot] = Answered;
                            if (_waiting.Remove(sequence, out var waiting))
                            {
                                waiting.TrySetResult(difference < 0
                                    ? new EchoAnswer(PingStatus.Ok, arrivedAt, null)
                                    : new EchoAnswer(PingStatus.Mismatch, arrivedAt, $"mismatch at byte {difference}"));
                            }
                            if (sequence < _highestAnswered)
                            {
                                reordered = new PingStray(PingStrayKind.Reordered, sequence, roundTrip);
                            }
                            _highestAnswered = Math.Max(_highestAnswered, sequence);
                            break;
                        case Answered:
                            stray = new PingStray(PingStrayKind.Duplicate, sequence, roundTrip);
                            break;
                        case Expired:
                            stray = new PingStray(PingStrayKind.Late, sequence, roundTrip);
                            break;
                        default:
                            stray = new PingStray(PingStrayKind.Mismatch, 0, null);
                            break;
                    }
                }
            }
        }
        if (reordered is not null)
        {
            _events.Stray(reordered);
        }
        if (stray is not null)
        {
            _events.Stray(stray);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        Task[] loops;
        Socket[] sockets;
        lock (_gate)
        {
            loops = _receiveLoops.ToArray();
            sockets = _sockets.ToArray();
        }
        await Task.WhenAll(loops).ConfigureAwait(false);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
        _disposed.Dispose();
    }
}
