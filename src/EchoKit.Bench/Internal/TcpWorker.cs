using System.Runtime.CompilerServices;
using System.Diagnostics;
using EchoKit.Internal.Linux;

namespace EchoKit.Bench.Internal;

/// <summary>
/// One worker loop: a thread driving its share of the TCP connections on an <see cref="EventLoop"/> of its own (the
/// loop the server's epoll engine runs on, here polled with the worker's own deadlines), the way the C load
/// generator does. Per message it makes one send (several pipelined messages share it) and one recv, reads the clock
/// twice, checks the echo with one vectorised compare and records one histogram value; nothing is allocated.
/// A connection that fails is counted by reason and reconnected after a back-off, so errors never end the run.
/// With churn (<see cref="BenchOptions.ConnectionLifetime"/>, <see cref="BenchOptions.MessagesPerConnection"/>) a
/// connection stops launching messages when its time or count is up, and once its last echo is back it is closed
/// and opened again at once, without an error; with a ramp the first connects are spread over it.
/// The hot methods are compiled fully optimized at once (AggressiveOptimization): with the worker keeping its one
/// core busy, the runtime's background tier-up was seen to leave them in tier-0 code for the whole run, which costs
/// several times more per message.
/// </summary>
internal sealed class TcpWorker : BenchWorker
{
    private const int MaxEvents = 512;
    private const int MaxConnectsInFlight = 256;
    private const int MaxReadsPerEvent = 8;

    private static readonly long MaintenanceTicks = Stopwatch.Frequency / 100; // 10 ms
    private static readonly long IdleWaitTicks = Stopwatch.Frequency / 10;     // 100 ms: how fast Stop is noticed
    private static readonly long FirstBackoffTicks = Stopwatch.Frequency / 10;
    private static readonly long MaxBackoffTicks = Stopwatch.Frequency;

    private readonly TcpConnection[] _connections;
    private readonly int _size;
    private readonly int _pipeline;
    private readonly long _batch;    // the least it takes at a time: its whole window
    private readonly bool _rated;
    private readonly double _rateSpacing;   // ticks between two scheduled messages of this worker
    private readonly byte[] _receiveBuffer = new byte[BenchPattern.MaxChunk];
    private EventLoop _loop = null!;
    private long _inFlight;
    private int _notOpen;
    private int _connecting;
    private long _nextMaintenance;
    private long _rateCursor;
    private readonly bool _churn;
    private readonly long _perConnection;  // messages per connection, or long.MaxValue
    private readonly long _lifetimeTicks;  // connection lifetime, or long.MaxValue

    /// <param name="id">Worker number.</param>
    /// <param name="run">The run.</param>
    /// <param name="firstConnection">Global number of this worker's first connection (its pattern seeds follow it).</param>
    /// <param name="connections">How many connections this worker drives.</param>
    public TcpWorker(int id, BenchRun run, int firstConnection, int connections) : base(id, run)
    {
        var options = run.Options;
        _size = options.Size;
        _pipeline = options.Pipeline;
        _batch = Math.Max(1, (long)connections * _pipeline);
        _rated = options.Rate is not null;
        if (_rated)
        {
            // Each connection sends every Connections/Rate seconds; the worker's connections take turns, evenly offset.
            var perConnection = Stopwatch.Frequency * (double)options.Connections / options.Rate!.Value;
            _rateSpacing = perConnection / connections;
        }
        _connections = new TcpConnection[connections];
        for (var i = 0; i < connections; i++)
        {
            _connections[i] = new TcpConnection(this, i, BenchPattern.SeedFor(firstConnection + i), _pipeline, stamps: !_rated);
        }
        _notOpen = connections;
        _perConnection = options.MessagesPerConnection ?? long.MaxValue;
        _lifetimeTicks = options.ConnectionLifetime is { } lifetime ? (long)(lifetime.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        _churn = options.MessagesPerConnection is not null || options.ConnectionLifetime is not null;
        if (run.RampTicks > 0)
        {
            // Connection g of N (over all workers) first connects at g/N of the ramp.
            for (var i = 0; i < connections; i++)
            {
                _connections[i].RetryAtTicks = run.StartTicks + run.RampTicks * (firstConnection + i) / options.Connections;
            }
        }
    }

    public override Task RunAsync(CancellationToken cancellationToken) => DedicatedThread.Run($"echokit-bench-{Id}", Loop);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop()
    {
        _loop = new EventLoop($"echokit-bench-{Id}", MaxEvents);
        try
        {
            var now = Stopwatch.GetTimestamp();
            Maintain(now);
            while (!Run.Stop)
            {
                now = Stopwatch.GetTimestamp();
                if (now >= Run.EndTicks || Messages >= Quota || Tick(now, Quota))
                {
                    break;
                }
                if (_rated)
                {
                    SendScheduled(now);
                }
                if ((_notOpen > 0 || _churn) && now >= _nextMaintenance)
                {
                    Maintain(now);
                }

                var wake = Math.Min(now + IdleWaitTicks, Math.Min(SampleDue, Run.EndTicks));
                if (now < Run.MeasureTicks)
                {
                    wake = Math.Min(wake, Run.MeasureTicks);
                }
                if (_rated)
                {
                    wake = Math.Min(wake, RateDue(_rateCursor));
                }
                if (_notOpen > 0 || _churn)
                {
                    wake = Math.Min(wake, _nextMaintenance);
                }
                _loop.Poll(wake - now);
            }
            PublishFinal(Math.Min(Stopwatch.GetTimestamp(), Run.EndTicks));
        }
        finally
        {
            foreach (var connection in _connections)
            {
                Libc.CloseQuietly(connection.Fd);
                connection.Fd = -1;
            }
            _loop.Dispose();
        }
    }

    /// <summary>The loop reports a connection's descriptor ready.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void OnEvents(TcpConnection connection, uint mask)
    {
        if (connection.State == TcpConnectionState.Connecting)
        {
            OnConnectDone(connection, Stopwatch.GetTimestamp());
        }
        else if (connection.State == TcpConnectionState.Open)
        {
            if ((mask & (EpollEvents.EPOLLIN | EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR)) != 0)
            {
                OnReadable(connection);
            }
            if (connection.State == TcpConnectionState.Open && (mask & EpollEvents.EPOLLOUT) != 0)
            {
                Pump(connection);
            }
        }
    }

    /// <summary>Takes the connection's descriptor out of the loop and closes it.</summary>
    private void CloseSocket(TcpConnection connection)
    {
        if (connection.Token >= 0)
        {
            _loop.Unregister(connection.Fd, connection.Token);
            connection.Token = -1;
        }
        Libc.CloseQuietly(connection.Fd);
        connection.Fd = -1;
    }

    // ---- connecting ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Starts connects that are due (at most <see cref="MaxConnectsInFlight"/> at once), times out slow ones, and
    /// (churn) replaces connections whose lifetime is up once nothing is in flight on them.
    /// </summary>
    private void Maintain(long now)
    {
        _nextMaintenance = now + MaintenanceTicks;
        foreach (var connection in _connections)
        {
            if (connection.State == TcpConnectionState.Idle && connection.RetryAtTicks <= now && _connecting < MaxConnectsInFlight)
            {
                StartConnect(connection, now);
            }
            else if (connection.State == TcpConnectionState.Idle && connection.RetryAtTicks > now)
            {
                _nextMaintenance = Math.Min(_nextMaintenance, connection.RetryAtTicks);
            }
            else if (_churn && connection.State == TcpConnectionState.Open && connection.Done == connection.Launched && ChurnDue(connection, now))
            {
                Recycle(connection, now);
            }
            else if (connection.State == TcpConnectionState.Connecting && now - connection.ConnectStartTicks >= Run.ConnectTimeoutTicks)
            {
                _connecting--;
                Fail(connection, BenchError.TimedOut, now);
            }
        }
    }

    private void StartConnect(TcpConnection connection, long now)
    {
        connection.ConnectStartTicks = now;
        var fd = LinuxNative.StartConnect(Run.Sockaddr, Run.SockaddrLength, Run.Family, stream: true, out var inProgress, out var errno);
        if (fd < 0)
        {
            Fail(connection, BenchErrors.FromErrno(errno), now);
            return;
        }
        connection.Fd = fd;
        connection.State = TcpConnectionState.Connecting;
        _connecting++;
        var token = _loop.Register(fd, EpollEvents.EPOLLOUT, connection);
        if (token < 0)
        {
            _connecting--;
            Fail(connection, BenchErrors.FromErrno(-token), now);
            return;
        }
        connection.Token = token;
        if (!inProgress)
        {
            OnConnectDone(connection, now);
        }
    }

    private void OnConnectDone(TcpConnection connection, long now)
    {
        _connecting--;
        var error = LinuxNative.PendingError(connection.Fd);
        if (error != 0)
        {
            Fail(connection, BenchErrors.FromErrno(error), now);
            return;
        }
        ConnectTime.RecordValue(LatencyHistograms.ToMicroseconds(now - connection.ConnectStartTicks));
        connection.State = TcpConnectionState.Open;
        connection.OpenedTicks = now;
        connection.BackoffTicks = 0;
        connection.ResetStream();
        _notOpen--;
        _loop.Modify(connection.Fd, connection.Token, EpollEvents.EPOLLIN);
        if (_rated)
        {
            // Join the schedule at the next slot of this connection that is not past: a new stream owes nothing.
            var slot = (long)Math.Ceiling(((now - Run.StartTicks) / _rateSpacing - connection.Index) / _connections.Length);
            connection.RateBase = Math.Max(0, slot);
        }
        Pump(connection);
    }

    /// <summary>Counts the error, closes the socket, forgets its messages in flight, and schedules a reconnect.</summary>
    private void Fail(TcpConnection connection, BenchError error, long now)
    {
        CountError(error);
        if (connection.State == TcpConnectionState.Open)
        {
            _notOpen++;
        }
        CloseSocket(connection);
        _inFlight -= connection.Launched - connection.Done;
        connection.ResetStream();
        connection.State = TcpConnectionState.Idle;
        connection.BackoffTicks = connection.BackoffTicks == 0 ? FirstBackoffTicks : Math.Min(MaxBackoffTicks, connection.BackoffTicks * 2);
        connection.RetryAtTicks = now + connection.BackoffTicks;
        _nextMaintenance = Math.Min(_nextMaintenance, connection.RetryAtTicks);
    }

    /// <summary>Churn: this connection has carried its messages or lived its time.</summary>
    private bool ChurnDue(TcpConnection connection, long now) =>
        connection.Launched >= _perConnection || now - connection.OpenedTicks >= _lifetimeTicks;

    /// <summary>Churn: closes a connection with nothing in flight and connects again at once (not an error).</summary>
    private void Recycle(TcpConnection connection, long now)
    {
        CloseSocket(connection);
        connection.ResetStream();
        connection.State = TcpConnectionState.Idle;
        connection.BackoffTicks = 0;
        connection.RetryAtTicks = now;
        _notOpen++;
        if (_connecting < MaxConnectsInFlight)
        {
            StartConnect(connection, now);
        }
        else
        {
            _nextMaintenance = now;
        }
    }

    // ---- messages -----------------------------------------------------------------------------------------------

    private long RateDue(long slot) => Run.StartTicks + (long)(slot * _rateSpacing);

    /// <summary>Rate mode: gives every connection whose turn has come the right to send its next message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SendScheduled(long now)
    {
        var n = _connections.Length;
        while (RateDue(_rateCursor) <= now)
        {
            var connection = _connections[(int)(_rateCursor % n)];
            var slot = _rateCursor / n;
            _rateCursor++;
            if (connection.State == TcpConnectionState.Open && slot >= connection.RateBase)
            {
                connection.Allowed = slot - connection.RateBase + 1;
                Pump(connection);
            }
        }
    }

    /// <summary>
    /// Starts the messages the connection may have in flight (the pipeline, the schedule, the message quota) and
    /// sends their bytes until done or the socket is full, in which case it waits for EPOLLOUT.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pump(TcpConnection connection)
    {
        var limit = connection.Done + _pipeline;
        if (_rated)
        {
            limit = Math.Min(limit, connection.Allowed);
        }
        if (Counted)
        {
            // In flight counts against what the worker took. A message that ends up not counted (it completed in the
            // warm-up, or started before measuring began) gives its share back here when it completes.
            var room = Allowance - Messages - _inFlight;
            if (limit - connection.Launched > room)
            {
                room += TakeMessages(Math.Max(_batch, limit - connection.Launched - room));
            }
            limit = Math.Min(limit, connection.Launched + Math.Max(0, room));
        }
        if (_churn)
        {
            limit = Math.Min(limit, _perConnection);
            if (_lifetimeTicks != long.MaxValue && Stopwatch.GetTimestamp() - connection.OpenedTicks >= _lifetimeTicks)
            {
                limit = Math.Min(limit, connection.Launched); // its time is up: let what is in flight come back
            }
        }
        if (limit > connection.Launched)
        {
            _inFlight += limit - connection.Launched;
            connection.Launched = limit;
        }

        var target = connection.Launched * _size;
        while (connection.Sent < target)
        {
            var length = (int)Math.Min(target - connection.Sent, BenchPattern.MaxChunk);
            // A message's latency runs from just before the send() that carries its first byte: on loopback that
            // call delivers the bytes to the server and wakes it, so a stamp taken after it returns misses a good
            // part of the round trip (Little's law showed 0.72 with the stamp after the call).
            var before = _rated ? 0 : Stopwatch.GetTimestamp();
            var sent = Libc.SendNoSignal(connection.Fd, BenchPattern.Expected(connection.Seed, connection.Sent, length));
            if (sent < 0)
            {
                var errno = (int)-sent;
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                if (errno == Errno.EAGAIN)
                {
                    if (!connection.OutArmed)
                    {
                        _loop.Modify(connection.Fd, connection.Token, EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT);
                        connection.OutArmed = true;
                    }
                    return;
                }
                Fail(connection, BenchErrors.FromErrno(errno), Stopwatch.GetTimestamp());
                return;
            }
            connection.Sent += sent;
            if (!_rated)
            {
                // Every message whose first byte this call carried starts at `before`.
                var stamps = connection.Stamps;
                var mask = connection.StampMask;
                while (connection.Stamped * _size < connection.Sent)
                {
                    stamps[(int)(connection.Stamped & mask)] = before;
                    connection.Stamped++;
                }
            }
        }
        if (connection.OutArmed)
        {
            _loop.Modify(connection.Fd, connection.Token, EpollEvents.EPOLLIN);
            connection.OutArmed = false;
        }
    }

    /// <summary>
    /// Reads what arrived (a few reads at most, so one busy connection cannot starve the others), checks every byte
    /// against what was sent at that offset, completes the messages whose last byte came, and sends the next ones.
    /// A short read is normal: the rest of a message simply comes with a later read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnReadable(TcpConnection connection)
    {
        var buffer = _receiveBuffer;
        for (var turn = 0; turn < MaxReadsPerEvent; turn++)
        {
            var n = Libc.Receive(connection.Fd, buffer);
            if (n == 0)
            {
                Fail(connection, BenchError.ClosedByServer, Stopwatch.GetTimestamp());
                return;
            }
            if (n < 0)
            {
                var errno = (int)-n;
                if (errno == Errno.EAGAIN)
                {
                    return;
                }
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                Fail(connection, BenchErrors.FromErrno(errno), Stopwatch.GetTimestamp());
                return;
            }
            var now = Stopwatch.GetTimestamp();
            var valid = n;
            if (connection.Received + n > connection.Sent)
            {
                // More came back than was sent: every extra byte is wrong.
                Mismatches += connection.Received + n - connection.Sent;
                valid = connection.Sent - connection.Received;
            }
            Mismatches += BenchPattern.CountMismatches(buffer.AsSpan(0, (int)valid), connection.Seed, connection.Received);
            connection.Received += valid;

            var completed = connection.Received / _size;
            if (completed > connection.Done)
            {
                Complete(connection, completed, now);
            }
            if (connection.State != TcpConnectionState.Open)
            {
                return;
            }
            if (_churn && connection.Done == connection.Launched && connection.Received == connection.Sent && ChurnDue(connection, now))
            {
                Recycle(connection, now);
                return;
            }
            Pump(connection);
            if (connection.State != TcpConnectionState.Open || n < buffer.Length)
            {
                return; // drained: skip the read that would only say EAGAIN
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Complete(TcpConnection connection, long completed, long now)
    {
        var measuring = IsMeasuring(now);
        while (connection.Done < completed)
        {
            var message = connection.Done;
            var start = _rated
                ? RateDue((connection.RateBase + message) * _connections.Length + connection.Index)
                : connection.Stamps[(int)(message & connection.StampMask)];
            // A message-count run counts only messages started once measuring began: its window runs from the first
            // counted message's start to the last one's end, so every counted latency lies inside it (a message still
            // in flight from the warm-up would bring time from before the window: -n 10 -c 8 read Little's law 1.2-1.7).
            if (measuring && Messages < Quota && (!Counted || start >= Run.MeasureTicks))
            {
                RecordMessage(now - start, now, _size);
            }
            else if (now < Run.MeasureTicks)
            {
                RecordWarmupMessage(now - start, _size);
            }
            connection.Done++;
            _inFlight--;
        }
    }
}
