using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// The epoll engine's echo for one connection, run only on its loop's thread. Edge-triggered: each report is a
/// recv() into the loop's shared buffer and, at once, a send() of what came, repeated while reads fill the buffer (at
/// most <see cref="MaxReadsPerEvent"/> times, so one busy client cannot starve the loop's others: then the connection
/// is re-armed, which queues it behind them). A short read means the socket is drained, as it does for nginx: bytes
/// that arrive after it are a new edge, so no call is made on a guess (no recv() that would only say EAGAIN). The one
/// thing that arrives without a later edge is an end of stream already there when the report was made, and the report
/// says so (<c>EPOLLRDHUP</c>): then reads go on to it. Edge-triggered rather than level-triggered because the kernel
/// then forgets a connection once it has reported it, instead of polling it again at the next epoll_wait.
/// A connection reads <see cref="EchoServerOptions.ReceiveBufferSize"/> at a time to begin with; each read that fills
/// its read size doubles it, up to four times as much, as the sockets engine grows a bulk client's buffer (a bulk echo
/// then costs a quarter of the system calls: docs/benchmarks.md, twelfth pass). The size is the loop's buffer, not
/// memory of the connection's, so it is kept for the connection's life.
/// Only what the client would not take yet is copied into a buffer of the connection's own (at most one read, so at
/// most four times <see cref="EchoServerOptions.ReceiveBufferSize"/>), and while it holds that the connection is watched for
/// EPOLLOUT only, not read: that is the back-pressure. Every change of interest (epoll_ctl MOD) makes the kernel look
/// at the socket again, so readiness that came meanwhile is reported, never lost. An idle connection holds no buffer.
/// Other threads ask it to close through <see cref="RequestClose"/>, which posts to the loop; the descriptor is
/// closed only here.
/// The methods every message runs (here, in the loop's Wait and Dispatch, and the owner's counters) are compiled fully
/// optimized at once (AggressiveOptimization), as the load generator's are: left to tiering, a new server ran them
/// unoptimized through the first second or so of its first load (docs/benchmarks.md, eleventh pass).
/// </summary>
internal sealed class EpollEchoConnection : IEventLoopHandler
{
    private const int CommandAdopt = 0;
    private const int CommandClose = 1;
    private const int CommandCloseGracefully = 2;

    /// <summary>
    /// Full reads per readiness report, as the C reference server does: reading only one buffer per report leaves a
    /// bulk sender's receive window closed for longer (the kernel reopens it only once the queue shrinks a lot).
    /// A report also ends once it has brought this many times the loop's <see cref="EpollIoLoop.ReadSize"/>, so a
    /// connection whose reads have grown takes no larger a share of the loop than before.
    /// </summary>
    private const int MaxReadsPerEvent = 16;

    /// <summary>
    /// A readiness report that brings at least this much makes the connection's next report spliced
    /// (<see cref="SplicePipe"/>), and a read this large makes the rest of its own report spliced: those bytes then
    /// stay in the kernel. Below it, copying them costs less than splicing (docs/benchmarks.md, "seventh pass").
    /// </summary>
    internal const int SpliceThreshold = 8 * 1024;

    /// <summary>Interest while nothing is held: data, and an end of stream that came with it.</summary>
    private const uint ReadEvents = EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET;

    /// <summary>Interest while bytes are held: room to send them (errors and hang-ups are always reported).</summary>
    private const uint WriteEvents = EpollEvents.EPOLLOUT | EpollEvents.EPOLLET;

    private readonly TcpEchoConnection _owner;
    private readonly EpollIoLoop _loop;
    private StreamCounterCell? _cell; // the loop's counters for this listener, set on adoption
    private int _fd;
    private int _token = -1;
    private byte[]? _pending;
    private int _pendingOffset;
    private int _pendingCount;
    private int _readSize;   // bytes a copied read asks for: the loop's ReadSize, doubled by each read that fills it
    private bool _bulk;      // reads splice: the last report was large, or a read in this one was
    private bool _maySplice; // the loop has a pipe, nothing dumps the bytes, and the kernel has not refused this socket

    /// <param name="owner">The connection's lifetime (counters, log lines).</param>
    /// <param name="fd">The accepted descriptor, non-blocking; owned from now on.</param>
    /// <param name="loop">The loop that will run it.</param>
    /// <param name="earlyData">Bytes read before the hand-over (after a PROXY header), echoed first.</param>
    public EpollEchoConnection(TcpEchoConnection owner, int fd, EpollIoLoop loop, ReadOnlySpan<byte> earlyData)
    {
        _owner = owner;
        _fd = fd;
        _loop = loop;
        _readSize = loop.ReadSize;
        _maySplice = owner.MaySplice && loop.Pipe is not null && (owner.SpliceOnHostClients || !ClientIsOnThisHost(owner.Peer));
        if (!earlyData.IsEmpty)
        {
            // Counted now and sent by the loop as held bytes: the loop sends them before it reads anything.
            owner.Received(earlyData);
            Hold(earlyData);
        }
    }

    /// <summary>
    /// True when the client runs on this machine: a Unix socket, a loopback address, or this socket's own address (a
    /// client connecting to the machine's own IP). Splicing saves the server two copies per read, but for a client on
    /// the same machine the copies come back on its side: the pages it sent stay referenced until it has read their
    /// echo, so its next sends copy into fresh, cache-cold pages. Measured on loopback (S4, docs/benchmarks.md, tenth
    /// pass): the server's CPU per message halves, the client's send copy grows from 18 % to 28 % of its time, and
    /// throughput falls to 0.94 of the C server against 1.03 for copying. So such clients get copies.
    /// </summary>
    private bool ClientIsOnThisHost(PeerAddress peer)
    {
        if (peer.IsEmpty || peer.IsLoopback)
        {
            return true;
        }
        Span<byte> address = stackalloc byte[128];
        var length = LocalName(address);
        if (length < 0 || SocketAddresses.Read(address[..length]) is not { } local)
        {
            return false;
        }
        return Client.ClientTransport.Normalize(local.Address).Equals(Client.ClientTransport.Normalize(peer.ToAddress()!));
    }

    /// <summary>
    /// The local address as text, for the online line: called before <see cref="Adopt"/>, while the descriptor
    /// cannot yet be closed by the loop.
    /// </summary>
    public string FormatLocal()
    {
        Span<byte> address = stackalloc byte[128];
        var length = LocalName(address);
        if (length < 0)
        {
            return "unknown";
        }
        address = address[..length];
        if (SocketAddresses.Read(address) is { } ip)
        {
            return EndpointResolver.FormatAddress(ip);
        }
        // A Unix socket: its path (the listener's), or unnamed.
        if (address.Length > 2 && address[2] != 0)
        {
            var path = address[2..];
            var end = path.IndexOf((byte)0);
            return System.Text.Encoding.UTF8.GetString(end < 0 ? path : path[..end]);
        }
        return "unnamed";
    }

    /// <summary>getsockname() into <paramref name="address"/>: the bytes of the address it wrote, or -1.</summary>
    private int LocalName(Span<byte> address)
    {
        var length = (uint)address.Length;
        return Libc.GetSockName(_fd, ref address[0], ref length) == 0 ? (int)Math.Min(length, (uint)address.Length) : -1;
    }

    /// <summary>True while bytes wait to be sent (read from other threads for diagnostics only).</summary>
    public bool HoldsBuffer => Volatile.Read(ref _pendingCount) > 0;

    /// <summary>Bytes a copied read asks for now (read from other threads for diagnostics only).</summary>
    public int ReadSize => Volatile.Read(ref _readSize);

    /// <summary>Registers the descriptor on its loop (posted: the loop's table is touched only by the loop).</summary>
    public void Adopt() => _loop.Loop.Post(this, CommandAdopt);

    /// <summary>Asks the loop to close the connection; the owner already holds the reason. Safe from any thread.</summary>
    public void RequestClose(bool graceful) => _loop.Loop.Post(this, graceful ? CommandCloseGracefully : CommandClose);

    public void OnCommand(int command)
    {
        if (_fd < 0)
        {
            return; // already closed
        }
        switch (command)
        {
            case CommandAdopt:
                _cell = _loop.CellFor(_owner.Context.Metrics);
                if (_owner.IsAborted)
                {
                    // Asked to close before the loop took it (a stop racing the hand-over).
                    Close(_owner.AbortReason);
                    return;
                }
                var token = _loop.Loop.Register(_fd, _pendingCount > 0 ? WriteEvents : ReadEvents, this);
                if (token < 0)
                {
                    _owner.LogFault(new SocketException((int)Errno.ToSocketError(-token)));
                    Close(ConnectionCloseReason.Error);
                    return;
                }
                _token = token;
                break;
            case CommandClose when _token >= 0:
                Close(_owner.AbortReason);
                break;
            case CommandCloseGracefully when _token >= 0:
                // FIN both ways, as the sockets engine's idle close does.
                Libc.Shutdown(_fd, Libc.SHUT_RDWR);
                Close(_owner.AbortReason);
                break;
            default:
                break; // a close before the adoption: the adoption sees the reason
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnEvents(uint events)
    {
        if (_pendingCount > 0)
        {
            Flush();
        }
        else
        {
            Read(events);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Read(uint events)
    {
        // An end of stream (or an error) already there when the report was made brings no later edge: read on to it.
        var toTheEnd = (events & (EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLHUP | EpollEvents.EPOLLERR)) != 0;
        var buffer = _loop.Buffer[.._readSize];
        var total = 0L; // bytes this report brought: what decides how the next report is read
        var budget = (long)MaxReadsPerEvent * _loop.ReadSize;
        for (var turn = 0; turn < MaxReadsPerEvent && total < budget; turn++)
        {
            var pipe = _bulk && _loop.Pipe is { IsOpen: true } open ? open : null;
            var n = pipe is null ? Libc.Receive(_fd, buffer) : pipe.Fill(_fd, _loop.ReadSize);
            if (n > 0)
            {
                total += n;
                bool echoed;
                if (pipe is null)
                {
                    var data = buffer[..(int)n];
                    _owner.Received(data, _cell);
                    echoed = Echo(data);
                }
                else
                {
                    _owner.Received((int)n, _cell);
                    echoed = EchoFromPipe(pipe);
                }
                if (!echoed)
                {
                    return; // held (or failed)
                }
                if (pipe is null && n < buffer.Length && !toTheEnd)
                {
                    // A short recv() means drained, and what comes next is an edge.
                    Drained(total);
                    return;
                }
                if (pipe is null && n == buffer.Length && _readSize < _loop.MaxReadSize)
                {
                    // A bulk sender: read more at a time.
                    _readSize = Math.Min(2 * _readSize, _loop.MaxReadSize);
                    buffer = _loop.Buffer[.._readSize];
                }
                // A large read: the rest of this report is spliced. (A short splice proves nothing, since the pipe may
                // have run out of pages: those read on until EAGAIN.)
                _bulk |= n >= SpliceThreshold && _maySplice;
            }
            else if (n == 0)
            {
                // The client half-closed. Everything it sent has been echoed (nothing is read while bytes are held),
                // so close our side too: it reads our FIN right after the last echoed byte.
                Libc.Shutdown(_fd, Libc.SHUT_WR);
                Close(_owner.IsAborted ? _owner.AbortReason : ConnectionCloseReason.ClosedByPeer);
                return;
            }
            else if (pipe is not null && SpliceRefused((int)-n))
            {
                _maySplice = _bulk = false; // nothing was moved: read it the ordinary way
            }
            else
            {
                if (n == -Errno.EAGAIN)
                {
                    Drained(total);
                }
                Failed((int)-n); // EAGAIN: drained, nothing else to do
                return;
            }
        }
        // Still full after its share of reads: re-arm, which queues it behind the loop's other ready connections.
        Watch(ReadEvents);
    }

    /// <summary>
    /// The socket is drained: its next report is spliced if this one brought at least
    /// <see cref="SpliceThreshold"/> bytes. Deciding per report rather than per read keeps a bulk sender spliced through
    /// the small reads its stream is also cut into now and then.
    /// </summary>
    private void Drained(long total) => _bulk = total >= SpliceThreshold && _maySplice;

    /// <summary>
    /// Sends the bytes just spliced into the pipe back; true when all of them went, false when some are held (copied
    /// out of the pipe, as <see cref="Echo"/> holds them) or the connection failed. Either way the pipe is left empty
    /// for the loop's next connection.
    /// </summary>
    private bool EchoFromPipe(SplicePipe pipe)
    {
        var sent = pipe.Empty(_fd, out var errno);
        if (sent > 0)
        {
            _owner.Sent(sent, _cell);
        }
        if (errno == 0)
        {
            return true;
        }
        if (errno == Errno.EAGAIN || SpliceRefused(errno))
        {
            // Held, and sent with send() once there is room (at once, if the socket only refused the splice).
            _maySplice &= errno == Errno.EAGAIN;
            _bulk &= _maySplice;
            var rest = pipe.Count;
            var pending = Rent(rest);
            if (pipe.Take(pending.AsSpan(0, rest)) == rest)
            {
                Watch(WriteEvents);
                return false;
            }
            errno = Errno.EIO; // the pipe broke under the bytes: they are lost, so the connection cannot go on
        }
        pipe.Discard(_loop.Buffer);
        Failed(errno);
        return false;
    }

    /// <summary>The kernel will not splice this socket (some socket types and security modules refuse): copy instead.</summary>
    private static bool SpliceRefused(int errno) => errno is Errno.EINVAL or Errno.ENOSYS or Errno.EOPNOTSUPP;

    /// <summary>Sends <paramref name="data"/> back; true when all of it went, false when some is held (or it failed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Echo(ReadOnlySpan<byte> data)
    {
        var sent = Libc.SendNoSignal(_fd, data);
        if (sent == data.Length)
        {
            _owner.Sent(data.Length, _cell);
            return true;
        }
        if (sent < 0)
        {
            if (sent is not (-Errno.EAGAIN or -Errno.EINTR))
            {
                Failed((int)-sent);
                return false;
            }
            sent = 0; // nothing taken: all of it is held below
        }
        else
        {
            _owner.Sent((int)sent, _cell);
        }
        // The client is not reading fast enough: keep the rest, stop reading, wait until it can take more.
        Hold(data[(int)sent..]);
        Watch(WriteEvents);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Flush()
    {
        // Until all of it is gone or the socket is full: edge-triggered, only a full socket (EAGAIN) promises an edge
        // when room comes.
        while (_pendingCount > 0)
        {
            var sent = Libc.SendNoSignal(_fd, _pending.AsSpan(_pendingOffset, _pendingCount));
            if (sent < 0)
            {
                if (sent != -Errno.EINTR)
                {
                    Failed((int)-sent); // EAGAIN: wait for room
                    return;
                }
                continue;
            }
            _owner.Sent((int)sent, _cell);
            _pendingOffset += (int)sent;
            Volatile.Write(ref _pendingCount, _pendingCount - (int)sent);
        }
        ReleasePending();
        // Read again. The change makes the kernel look at the socket, so what came while we held is reported.
        Watch(ReadEvents);
    }

    /// <summary>Changes what the connection is watched for (epoll_ctl MOD, which also re-polls the socket).</summary>
    private void Watch(uint events)
    {
        var error = _loop.Loop.Modify(_fd, _token, events);
        if (error != 0)
        {
            Failed(error);
        }
    }

    private void Hold(ReadOnlySpan<byte> rest) => rest.CopyTo(Rent(rest.Length));

    /// <summary>Takes a buffer for <paramref name="count"/> bytes about to be held (the caller fills it).</summary>
    private byte[] Rent(int count)
    {
        _pending = ArrayPool<byte>.Shared.Rent(count);
        _pendingOffset = 0;
        Volatile.Write(ref _pendingCount, count);
        return _pending;
    }

    private void ReleasePending()
    {
        if (_pending is not null)
        {
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = null;
        }
        _pendingOffset = 0;
        Volatile.Write(ref _pendingCount, 0);
    }

    private void Failed(int errno)
    {
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            return; // nothing there after all (drained, or full): the next edge reports it
        }
        if (_owner.IsAborted)
        {
            Close(_owner.AbortReason);
            return;
        }
        var error = Errno.ToSocketError(errno);
        if (SocketErrors.IsConnectionResetError(error))
        {
            _owner.LogReset(error);
            Close(ConnectionCloseReason.Reset);
        }
        else
        {
            _owner.LogFault(new SocketException((int)error));
            Close(ConnectionCloseReason.Error);
        }
    }

    /// <summary>Forgets the descriptor, closes it (here, on its loop) and ends the connection's life.</summary>
    private void Close(ConnectionCloseReason reason)
    {
        var fd = _fd;
        _fd = -1;
        if (_token >= 0)
        {
            _loop.Loop.Unregister(fd, _token);
            _token = -1;
        }
        Libc.CloseQuietly(fd);
        ReleasePending();
        _owner.Finish(reason);
    }
}
