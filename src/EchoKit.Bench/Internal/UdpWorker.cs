using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Diagnostics;
using EchoKit.Internal.Linux;

namespace EchoKit.Bench.Internal;

/// <summary>
/// One worker loop for UDP: connected datagram sockets on an <see cref="EventLoop"/> of its own, each keeping up to the pipeline's number of
/// datagrams unanswered. A datagram carries its sequence number and send time, then pattern bytes that depend on
/// both the socket and the sequence number. Each socket remembers a window of recent sequence numbers, so a reply is
/// sorted as answered, duplicated (answered before), reordered (older than one already answered), late (answered
/// after it was declared lost) or foreign (never sent: a mismatch). Unanswered datagrams are lost after the loss
/// timeout, which frees their place in the window.
/// </summary>
internal sealed class UdpWorker : BenchWorker
{
    private const int MaxEvents = 256;
    private const byte SlotInFlight = 1;
    private const byte SlotAnswered = 2;
    private const byte SlotLost = 3;

    private static readonly long IdleWaitTicks = Stopwatch.Frequency / 10;
    private static readonly long ExpiryCheckTicks = Stopwatch.Frequency / 1000;

    private readonly Socket[] _sockets;
    private readonly int _size;
    private readonly int _window;
    private readonly long _batch;    // the least it takes at a time: its whole window
    private readonly byte[] _receiveBuffer = new byte[65536];
    private readonly byte[] _sendBuffer;
    private EventLoop _loop = null!;
    private bool _draining;   // no more sends, waiting (at most the loss timeout) for what is in flight: see Loop
    private bool _timeUp;     // the run's end has come (for good: a late reply does not reopen it)
    private long _inFlightMeasured;
    private long _nextExpiry;

    public UdpWorker(int id, BenchRun run, int firstSocket, int sockets) : base(id, run)
    {
        _size = run.Options.Size;
        _window = run.Options.Pipeline;
        _batch = Math.Max(1, (long)sockets * _window);
        _sendBuffer = new byte[_size];
        var ring = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(64, _window * 4));
        _sockets = new Socket[sockets];
        for (var i = 0; i < sockets; i++)
        {
            _sockets[i] = new Socket(this, BenchPattern.SeedFor(firstSocket + i), ring);
        }
    }

    public override Task RunAsync(CancellationToken cancellationToken) => DedicatedThread.Run($"echokit-bench-udp-{Id}", Loop);

    /// <summary>
    /// Message-count mode: true when one more measured datagram may go, taking a batch from the run's budget when what
    /// the worker holds is all answered or in flight. (A measured datagram declared lost gives its place back.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HasRoom()
    {
        if (Messages + _inFlightMeasured < Allowance)
        {
            return true;
        }
        TakeMessages(_batch);
        return Messages + _inFlightMeasured < Allowance;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop()
    {
        _loop = new EventLoop($"echokit-bench-udp-{Id}", MaxEvents);
        try
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var socket in _sockets)
            {
                Open(socket, now);
            }
            while (!Run.Stop)
            {
                now = Stopwatch.GetTimestamp();
                if (Tick(now, Quota) && !_draining)
                {
                    break; // stalled: nothing came back for the stall timeout
                }
                if (now >= _nextExpiry)
                {
                    Expire(now);
                }
                // Stop sending once the run's time is up, or every message the count needs is answered or in flight;
                // then wait (at most the loss timeout) for what is in flight, so loss is counted exactly. The count's
                // reason is looked at afresh each turn: a measured datagram declared lost gives its place back, and
                // its replacement goes (else a run whose last datagram was lost ended one message short).
                _timeUp |= now >= Run.EndTicks;
                _draining = _timeUp || Messages + _inFlightMeasured >= Quota;
                if (_draining && AllResolved())
                {
                    break;
                }
                if (!_draining)
                {
                    foreach (var socket in _sockets)
                    {
                        Fill(socket, now);
                    }
                }
                var wake = Math.Min(now + IdleWaitTicks, Math.Min(SampleDue, _nextExpiry));
                if (!_draining)
                {
                    wake = Math.Min(wake, Run.EndTicks);
                }
                _loop.Poll(wake - now);
            }
            PublishFinal(Stopwatch.GetTimestamp());
        }
        finally
        {
            foreach (var socket in _sockets)
            {
                Libc.CloseQuietly(socket.Fd);
                socket.Fd = -1;
            }
            _loop.Dispose();
        }
    }

    /// <summary>
    /// The loop reports a socket readable: take its replies, each answered datagram sending the next at once (a closed
    /// loop: the window stays full, so the run measures what --pipeline says; refilled only after the whole batch, a
    /// 64-datagram window spent half its time nearly empty), then top the window up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnEvents(Socket socket)
    {
        OnReadable(socket);
        if (!_draining)
        {
            Fill(socket, Stopwatch.GetTimestamp());
        }
    }

    private void Open(Socket socket, long now)
    {
        var fd = LinuxNative.StartConnect(Run.Sockaddr, Run.SockaddrLength, Run.Family, stream: false, out _, out var errno);
        if (fd < 0)
        {
            CountError(BenchErrors.FromErrno(errno));
            return;
        }
        socket.Fd = fd;
        var token = _loop.Register(fd, EpollEvents.EPOLLIN, socket);
        if (token < 0)
        {
            CountError(BenchErrors.FromErrno(-token));
            Libc.CloseQuietly(fd);
            socket.Fd = -1;
            return;
        }
        ConnectTime.RecordValue(LatencyHistograms.ToMicroseconds(Stopwatch.GetTimestamp() - now));
    }

    private bool AllResolved()
    {
        foreach (var socket in _sockets)
        {
            if (socket.InFlight > 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Sends until the window is full (or the ring of remembered sequence numbers would wrap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fill(Socket socket, long now)
    {
        if (socket.Fd < 0)
        {
            return;
        }
        var mask = socket.Sequence.Length - 1;
        while (socket.InFlight < _window && socket.Next - socket.Oldest < socket.Sequence.Length)
        {
            if (Counted && !HasRoom())
            {
                return;
            }
            var seq = socket.Next;
            var stamp = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(_sendBuffer, seq);
            BinaryPrimitives.WriteInt64LittleEndian(_sendBuffer.AsSpan(8), stamp);
            BenchPattern.Expected(socket.Seed, seq * _size + 16, _size - 16).CopyTo(_sendBuffer.AsSpan(16));
            var sent = Libc.SendNoSignal(socket.Fd, _sendBuffer);
            if (sent < 0)
            {
                var errno = (int)-sent;
                if (errno is Errno.EAGAIN or Errno.EINTR)
                {
                    return; // the socket buffer is full: the next reply or wake-up tries again
                }
                CountError(BenchErrors.FromErrno(errno)); // e.g. ECONNREFUSED: an ICMP port unreachable came back
                return;
            }
            var slot = (int)(seq & mask);
            socket.Sequence[slot] = seq;
            socket.SentTicks[slot] = stamp;
            socket.State[slot] = SlotInFlight;
            var measured = IsMeasuring(stamp);
            socket.Measured[slot] = measured;
            if (measured)
            {
                UdpSent++;
                _inFlightMeasured++;
            }
            socket.Next++;
            socket.InFlight++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnReadable(Socket socket)
    {
        var mask = socket.Sequence.Length - 1;
        while (true)
        {
            var n = Libc.Receive(socket.Fd, _receiveBuffer);
            if (n < 0)
            {
                var errno = (int)-n;
                if (errno == Errno.EAGAIN)
                {
                    return;
                }
                if (errno != Errno.EINTR)
                {
                    CountError(BenchErrors.FromErrno(errno));
                }
                continue;
            }
            var now = Stopwatch.GetTimestamp();
            var datagram = _receiveBuffer.AsSpan(0, (int)n);
            if (n < 16)
            {
                Mismatches += Math.Max(n, 1);
                continue;
            }
            var seq = BinaryPrimitives.ReadInt64LittleEndian(datagram);
            var slot = (int)(seq & mask);
            if (seq < 0 || seq >= socket.Next || socket.Sequence[slot] != seq || socket.State[slot] == 0)
            {
                if (seq >= 0 && seq < socket.Oldest)
                {
                    UdpLate++; // older than the remembered window: it was resolved long ago
                }
                else
                {
                    Mismatches += n; // never sent on this socket
                }
                continue;
            }
            var bad = Math.Abs(n - _size);
            var compared = (int)Math.Min(n, _size);
            if (BinaryPrimitives.ReadInt64LittleEndian(datagram[8..]) != socket.SentTicks[slot])
            {
                bad += 8;
            }
            bad += BenchPattern.CountMismatches(datagram[16..compared], socket.Seed, seq * _size + 16);
            Mismatches += bad;
            var measured = socket.Measured[slot];
            switch (socket.State[slot])
            {
                case SlotAnswered:
                    if (measured)
                    {
                        UdpDuplicated++;
                    }
                    break;
                case SlotLost:
                    if (measured)
                    {
                        UdpLate++;
                    }
                    break;
                default:
                    socket.State[slot] = SlotAnswered;
                    socket.InFlight--;
                    if (measured)
                    {
                        _inFlightMeasured--;
                        if (seq < socket.HighestAnswered)
                        {
                            UdpReordered++;
                        }
                        if (Messages < Quota)
                        {
                            RecordMessage(now - socket.SentTicks[slot], now, _size);
                        }
                    }
                    else if (now < Run.MeasureTicks)
                    {
                        RecordWarmupMessage(now - socket.SentTicks[slot], _size);
                    }
                    socket.HighestAnswered = Math.Max(socket.HighestAnswered, seq);
                    if (seq == socket.Oldest)
                    {
                        // The window moves on at once. Left to Expire (every 1 ms) it stalled each socket after a ring
                        // of sends per millisecond, so a pipelined run was capped and its window never full.
                        SkipAnswered(socket);
                    }
                    if (!_draining)
                    {
                        Fill(socket, now);
                    }
                    break;
            }
        }
    }

    /// <summary>Moves the socket's window past the datagrams at its start that are resolved (answered, or lost).</summary>
    private static void SkipAnswered(Socket socket)
    {
        var mask = socket.Sequence.Length - 1;
        while (socket.Oldest < socket.Next && socket.State[(int)(socket.Oldest & mask)] != SlotInFlight)
        {
            socket.Oldest++;
        }
    }

    /// <summary>Declares datagrams unanswered for the loss timeout lost, oldest first, and moves each window on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Expire(long now)
    {
        _nextExpiry = now + ExpiryCheckTicks;
        foreach (var socket in _sockets)
        {
            var mask = socket.Sequence.Length - 1;
            while (socket.Oldest < socket.Next)
            {
                var slot = (int)(socket.Oldest & mask);
                if (socket.State[slot] == SlotInFlight)
                {
                    if (now - socket.SentTicks[slot] < Run.LossTimeoutTicks)
                    {
                        break;
                    }
                    socket.State[slot] = SlotLost;
                    socket.InFlight--;
                    if (socket.Measured[slot])
                    {
                        UdpLost++;
                        _inFlightMeasured--;
                    }
                }
                socket.Oldest++;
            }
        }
    }

    /// <summary>One datagram socket and the window of sequence numbers it remembers; its worker's loop reports it readable.</summary>
    private sealed class Socket(UdpWorker worker, int seed, int ring) : IEventLoopHandler
    {
        public int Seed { get; } = seed;

        public long[] Sequence { get; } = new long[ring];

        public long[] SentTicks { get; } = new long[ring];

        public byte[] State { get; } = new byte[ring];

        public bool[] Measured { get; } = new bool[ring];

        public int Fd = -1;
        public long Next;
        public long Oldest;
        public int InFlight;
        public long HighestAnswered = -1;

        /// <remarks>Nothing is posted to a load socket (the worker's thread is the only one that touches it), so it keeps the handler's default OnCommand.</remarks>
        public void OnEvents(uint events) => worker.OnEvents(this);
    }
}
