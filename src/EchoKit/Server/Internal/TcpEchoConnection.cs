using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// One accepted stream client's life, on a TCP, TLS or Unix listener, whichever engine echoes it: its id and
/// address, the online and closed log lines, the metrics, the connection-limit permit, and how it is asked to
/// close (shutdown, idle). The bytes are moved by one echo loop per engine: <see cref="SocketEchoLoop"/>
/// (System.Net.Sockets, and every TLS connection) or <see cref="EpollEchoConnection"/> (the epoll engine). Before
/// echoing, <see cref="ConnectionPreamble"/> may read a PROXY header and run a TLS handshake; a failure there is a
/// rejection, logged once, and the connection is never "opened".
/// </summary>
internal sealed class TcpEchoConnection
{
    private const int NotAborted = -1;
    private const int Disposed = 1; // the managed socket is disposed
    private const int Finished = 2; // the last act has run

    // Only what differs per connection is a field; the logger, clock, metrics and --dump come from the listener's
    // context, so an idle connection on the epoll engine stays small.
    private readonly StreamListenerContext _context;
    private readonly long _startTimestamp;
    private readonly PeerAddress _peer;  // the TCP client's address, as bytes; empty for Unix clients
    private readonly bool _tracksActivity; // only --idle-timeout reads the clock stamps: skip them otherwise
    private ManagedState? _managed;      // only connections with a managed socket (sockets engine, PROXY, TLS) or --dump
    private volatile EpollEchoConnection? _epoll;
    private string? _remote; // formatted on first use: most connections are never logged
    private long _bytesIn;
    private long _bytesOut;
    private long _lastActivity;
    private volatile bool _echoing;
    private bool _opened;
    private int _abortReason = NotAborted;
    private int _ended; // Disposed | Finished, each set once (Interlocked.Or)

    /// <summary>A client accepted by the managed accept loop (sockets engine, PROXY, TLS).</summary>
    public TcpEchoConnection(long id, Socket socket, StreamListenerContext context, PeerAddress peer, string? remote)
        : this(id, context, peer, remote)
    {
        Managed.Socket = socket;
    }

    /// <summary>A client accepted natively on an epoll loop (<see cref="EpollAcceptor"/>): its descriptor, no socket.</summary>
    public TcpEchoConnection(long id, int fd, StreamListenerContext context, PeerAddress peer, string? remote)
        : this(id, context, peer, remote)
    {
        _epoll = new EpollEchoConnection(this, fd, context.Epoll!.NextLoop(), ReadOnlySpan<byte>.Empty);
    }

    private TcpEchoConnection(long id, StreamListenerContext context, PeerAddress peer, string? remote)
    {
        Id = id;
        _context = context;
        _peer = peer;
        _remote = remote;
        _startTimestamp = context.Server.Time.GetTimestamp();
        _lastActivity = _startTimestamp;
        _tracksActivity = context.Server.Options.IdleTimeout is not null;
    }

    public TimeProvider Time => _context.Server.Time;

    private ListenerMetrics Metrics => _context.Metrics;

    private DumpMode DumpSetting => _context.Server.Options.Dump;

    public long Id { get; }

    /// <summary>Where the <see cref="ConnectionTracker"/> keeps it, -1 when it does not; the tracker's, under its lock.</summary>
    public int TrackerSlot { get; set; } = -1;

    public StreamListenerContext Context => _context;

    public ILogger Logger => _context.Server.Logger;

    /// <summary>The client's address as text (the real client's when a PROXY header said so).</summary>
    public string Remote => _remote ??= _peer.ToEndPoint() is { } ip ? EndpointResolver.FormatAddress(ip) : "unknown";

    /// <summary>Bytes received so far (read from another thread only for diagnostics).</summary>
    public long BytesIn => Volatile.Read(ref _bytesIn);

    /// <summary>Bytes echoed so far.</summary>
    public long BytesOut => Volatile.Read(ref _bytesOut);

    /// <summary>True while the connection holds a buffer (sockets: a busy receive buffer; epoll: bytes not yet sent).</summary>
    public bool HoldsBuffer => _managed?.Sockets?.HoldsBuffer ?? _epoll?.HoldsBuffer ?? false;

    /// <summary>Bytes the epoll engine reads at a time for this connection; 0 on the sockets engine (diagnostics only).</summary>
    public int ReadSize => _epoll?.ReadSize ?? 0;

    /// <summary>
    /// The task running the connection (preamble, sockets echo), if any; never faults (faults are logged and end the
    /// connection only). A connection handed to an epoll loop straight from accept has none (a completed task): the
    /// tracker sees its end when <see cref="Finish"/> removes it.
    /// </summary>
    public Task Completion => _managed?.Completion ?? Task.CompletedTask;

    /// <summary>True when it holds a connection-limit permit, released when it ends.</summary>
    public bool HoldsPermit { get; init; }

    public bool IsAborted => Volatile.Read(ref _abortReason) != NotAborted;

    /// <summary>The first reason given to close it; meaningful when <see cref="IsAborted"/>.</summary>
    public ConnectionCloseReason AbortReason => (ConnectionCloseReason)Volatile.Read(ref _abortReason);

    public void Start(ConnectionTracker tracker)
    {
        if (_managed?.Socket is null && _epoll is { } accepted)
        {
            // Accepted natively on a loop: open, then let the connection's own loop register it.
            Open();
            accepted.Adopt();
            return;
        }
        if (_context.Epoll is { } engine && !_context.UseProxyProtocol)
        {
            // Nothing to read before the echo: open and hand the socket to a loop right here, with no task at all,
            // so an idle connection costs this object and its loop's record. Completion stays completed: the tracker
            // knows it has ended when it is removed.
            Open();
            try
            {
                HandOver(engine, ReadOnlySpan<byte>.Empty);
            }
            catch (SocketException ex)
            {
                LogReset(ex.SocketErrorCode);
                Finish(ConnectionCloseReason.Error);
            }
            return;
        }
        Managed.Completion = RunAsync();
    }

    /// <summary>
    /// Closes the connection at once; the echo then ends with reason Shutdown. The client reads a normal end of stream
    /// (FIN) on both engines. Harmless twice.
    /// </summary>
    public void Abort() => Abort(ConnectionCloseReason.Shutdown);

    /// <summary>Closes the connection at once, with <paramref name="reason"/> (the first reason given wins).</summary>
    public void Abort(ConnectionCloseReason reason)
    {
        Interlocked.CompareExchange(ref _abortReason, (int)reason, NotAborted);
        if (_epoll is { } epoll)
        {
            epoll.RequestClose(graceful: false);
        }
        else if (_managed?.Sockets?.TryRequestTlsClose() != true)
        {
            // A TLS echo sends close_notify and FIN on its own task (bounded: SocketEchoLoop.CloseNotifyTimeout);
            // anything else is closed here.
            DisposeSocket();
        }
    }

    /// <summary>Closes the connection as idle if it is echoing and nothing moved since <paramref name="now"/> - <paramref name="idleTicks"/>.</summary>
    public void CloseIfIdle(long now, long idleTicks)
    {
        // Before the echo starts, the PROXY and handshake timeouts bound the connection instead.
        if (_echoing && now - Volatile.Read(ref _lastActivity) >= idleTicks
            && Interlocked.CompareExchange(ref _abortReason, (int)ConnectionCloseReason.Idle, NotAborted) == NotAborted)
        {
            if (_epoll is { } epoll)
            {
                epoll.RequestClose(graceful: true);
            }
            else if (_managed?.Sockets is { } sockets)
            {
                sockets.CloseGracefully();
            }
        }
    }

    /// <summary>Called by the tracker's sweep once per period (sockets engine: idle busy buffers go back).</summary>
    public void SweepIdleBuffer() => _managed?.Sockets?.SweepIdleBuffer();

    private async Task RunAsync()
    {
        // Let the caller (the accept loop) go on at once; the rest runs on the socket's completions.
        await Task.Yield();
        var reason = ConnectionCloseReason.Error;
        var handedOver = false;
        var echoingTls = false;
        var socket = _managed!.Socket!;
        try
        {
            using var preamble = new ConnectionPreamble(this, socket);
            if (!await preamble.RunAsync().ConfigureAwait(false))
            {
                return;
            }
            Open();
            if (_context.Epoll is { } engine && preamble.Tls is null)
            {
                Managed.Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                HandOver(engine, preamble.EarlyData.Span);
                handedOver = true;
            }
            else
            {
                var sockets = Managed.Sockets = new SocketEchoLoop(this, socket);
                _context.Server.Tracker.EnsureSweeping();
                echoingTls = preamble.Tls is not null;
                await sockets.RunAsync(preamble.EarlyData, preamble.Tls).ConfigureAwait(false);
                // An idle close ends the loop as a normal end of stream would.
                reason = IsAborted ? AbortReason : ConnectionCloseReason.ClosedByPeer;
            }
        }
        catch (Exception ex) when (IsAborted && ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            reason = AbortReason;
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
        {
            reason = ConnectionCloseReason.Reset;
            LogReset(ex.SocketErrorCode);
        }
        catch (IOException ex) when (ex.InnerException is SocketException inner && SocketErrors.IsConnectionResetError(inner.SocketErrorCode))
        {
            // SslStream wraps socket errors in IOException.
            reason = ConnectionCloseReason.Reset;
            LogReset(inner.SocketErrorCode);
        }
        catch (Exception ex) when (echoingTls && SocketErrors.IsTlsProtocolError(ex))
        {
            // A corrupted record, a renegotiation request: the client's fault, as a failed handshake is.
            reason = ConnectionCloseReason.ProtocolError;
            // SslStream's own message often says only "see inner exception": the inner one names the TLS library's reason.
            ServerLog.TlsProtocolError(Logger, Id, Remote, _context.Uri,
                ex.InnerException is { } inner ? ex.Message + " " + inner.Message : ex.Message);
        }
        catch (Exception ex)
        {
            LogFault(ex);
        }
        finally
        {
            if (!handedOver)
            {
                DisposeSocket();
                Finish(reason);
            }
        }
        if (handedOver)
        {
            await Managed.Done!.Task.ConfigureAwait(false); // the loop finishes the connection
        }
    }

    /// <summary>Gives the socket's descriptor to one of the engine's loops; the managed socket is closed here.</summary>
    private void HandOver(EpollEngine engine, ReadOnlySpan<byte> earlyData)
    {
        var socket = _managed!.Socket!;
        var fd = EpollEngine.TakeDescriptor(socket);
        Managed.Socket = null;
        var connection = new EpollEchoConnection(this, fd, engine.NextLoop(), earlyData);
        _epoll = connection;
        connection.Adopt();
    }

    /// <summary>The online line and metrics: the echo starts now.</summary>
    private void Open()
    {
        if (Logger.IsEnabled(LogLevel.Information))
        {
            // Guarded: the local address is looked up only when someone reads it.
            ServerLog.ConnectionOpened(Logger, Id, Remote, FormatLocal(), _context.Uri);
        }
        Metrics.ConnectionOpened();
        _opened = true;
        MarkActivity();
        _echoing = true;
    }

    /// <summary>
    /// The connection's last act, exactly once, on whichever thread ended it: permit, metrics, closed line, tracker.
    /// </summary>
    public void Finish(ConnectionCloseReason reason)
    {
        if ((Interlocked.Or(ref _ended, Finished) & Finished) != 0)
        {
            return;
        }
        if (HoldsPermit)
        {
            // Before the closed event: whoever sees the close may use the slot at once.
            _context.Server.Limiter?.Release();
        }
        if (_opened)
        {
            FlushDump();
            var elapsed = Time.GetElapsedTime(_startTimestamp);
            // Metrics before the log line: whoever sees the line (a test, an operator) finds the counters updated.
            Metrics.ConnectionClosed(reason, elapsed);
            if (Logger.IsEnabled(LogLevel.Information))
            {
                ServerLog.ConnectionClosed(Logger, Id, Remote, reason.ToDisplayString(), _bytesIn, _bytesOut, (long)elapsed.TotalMilliseconds, _context.Uri);
            }
        }
        _context.Server.Tracker.Remove(this); // harmless when it never started: the tracker does not hold it
        _managed?.Done?.TrySetResult();
    }

    /// <summary>Adopts the real client's address from a PROXY header.</summary>
    public void SetRemote(string remote) => _remote = remote;

    public void LogReset(SocketError error) => ServerLog.ConnectionReset(Logger, Id, Remote, _context.Uri, error.ToString());

    public void LogFault(Exception ex) => ServerLog.ConnectionFault(Logger, Id, Remote, _context.Uri, ex);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MarkActivity()
    {
        if (_tracksActivity)
        {
            Volatile.Write(ref _lastActivity, Time.GetTimestamp());
        }
    }

    /// <summary>Counts (and dumps, with --dump) bytes received from the client.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cell">The epoll loop's own counters, or null for the listener's shared (interlocked) ones.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Received(ReadOnlySpan<byte> data, StreamCounterCell? cell = null)
    {
        Received(data.Length, cell);
        if (DumpSetting != DumpMode.None)
        {
            Dump(data);
        }
    }

    /// <summary>
    /// Counts bytes received that never reached this process (spliced straight back), which is why only a
    /// connection that is not dumped may splice (<see cref="MaySplice"/>).
    /// </summary>
    /// <param name="count">Bytes received.</param>
    /// <param name="cell">The epoll loop's own counters.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Received(int count, StreamCounterCell? cell)
    {
        _bytesIn += count;
        if (cell is null)
        {
            Metrics.AddReceived(count);
        }
        else
        {
            cell.Values.BytesReceived += count;
        }
        MarkActivity();
    }

    /// <summary>True when the connection's bytes need not pass through this process: nothing dumps them.</summary>
    public bool MaySplice => DumpSetting == DumpMode.None;

    /// <summary>Splice the bulk reads of clients on this machine too (tests only; see <see cref="EchoServerOptions.SpliceOnHostClients"/>).</summary>
    public bool SpliceOnHostClients => _context.Server.Options.SpliceOnHostClients;

    /// <summary>The TCP client's address (the PROXY header's sender, not the client it names); empty for a Unix client.</summary>
    public PeerAddress Peer => _peer;

    /// <summary>Counts bytes echoed back.</summary>
    /// <param name="count">Bytes sent.</param>
    /// <param name="cell">The epoll loop's own counters, or null for the listener's shared (interlocked) ones.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sent(int count, StreamCounterCell? cell = null)
    {
        _bytesOut += count;
        if (cell is null)
        {
            Metrics.AddSent(count);
        }
        else
        {
            cell.Values.BytesSent += count;
        }
        MarkActivity();
    }

    private string FormatLocal()
    {
        try
        {
            return _managed?.Socket is null && _epoll is { } epoll ? epoll.FormatLocal() : EndpointResolver.FormatEndPoint(_managed?.Socket?.LocalEndPoint);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return "unknown"; // the client is already gone; the close line will say how
        }
    }

    /// <summary>
    /// Bytes per dump event. A read is dumped in pieces of at most this much, so that every string a dump makes (the
    /// hex text, about 5 characters a byte, and the log line around it, escaped) stays small and short-lived. Dumped
    /// whole, a 256 KiB read was a 2 MB string on the large-object heap, which only a full collection frees: a 20 MiB
    /// upload with <c>--dump hex</c> took the server's memory to 470–800 MB.
    /// </summary>
    internal const int DumpPieceSize = 2048;

    /// <summary>The longest start of a UTF-8 sequence a text dump holds back for the next piece.</summary>
    private const int MaxDumpTail = 3;

    private void Dump(ReadOnlySpan<byte> data)
    {
        if (!Logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var offset = _bytesIn - data.Length;
        // Text pieces are escaped from the bytes (never decoded first: U+FFFD would hide what the peer sent), and a
        // character cut by a piece's or a read's end is shown whole with the piece that completes it.
        Span<byte> joined = DumpSetting == DumpMode.Hex ? default : stackalloc byte[MaxDumpTail + DumpPieceSize];
        while (!data.IsEmpty)
        {
            var piece = data[..Math.Min(DumpPieceSize, data.Length)];
            if (DumpSetting == DumpMode.Hex)
            {
                // Printable ASCII and line breaks only, as the UDP dump logs it: nothing to escape.
                ServerLog.Data(Logger, Id, Remote, piece.Length, HexDump.Format(piece, offset), _context.Uri);
            }
            else
            {
                DumpText(piece, joined, final: false);
            }
            offset += piece.Length;
            data = data[piece.Length..];
        }
    }

    /// <summary>
    /// Logs a text piece, after the bytes a previous piece held back; holds back a UTF-8 sequence cut at its end unless
    /// <paramref name="final"/>. The count logged is the bytes the line shows, so the counts still add up to the bytes received.
    /// </summary>
    private void DumpText(ReadOnlySpan<byte> piece, Span<byte> joined, bool final)
    {
        var state = Managed;
        var text = piece;
        if (state.DumpTailLength > 0)
        {
            state.DumpTail.AsSpan(0, state.DumpTailLength).CopyTo(joined);
            piece.CopyTo(joined[state.DumpTailLength..]);
            text = joined[..(state.DumpTailLength + piece.Length)];
        }
        var escaped = PeerText.Dump(text, final, out var consumed);
        var tail = text[consumed..];
        tail.CopyTo(state.DumpTail ??= new byte[MaxDumpTail]);
        state.DumpTailLength = tail.Length;
        if (consumed > 0)
        {
            ServerLog.Data(Logger, Id, Remote, consumed, escaped, _context.Uri);
        }
    }

    /// <summary>At the end: the start of a UTF-8 sequence the peer never finished is shown as it is, <c>\xNN</c>.</summary>
    private void FlushDump()
    {
        if (_managed is { DumpTailLength: > 0 } && Logger.IsEnabled(LogLevel.Information))
        {
            DumpText(ReadOnlySpan<byte>.Empty, stackalloc byte[MaxDumpTail], final: true);
        }
    }

    /// <summary>
    /// Closes the managed socket with a FIN, as the epoll engine's close does. Disposing a socket under a pending
    /// receive alone makes the runtime close it abortively (SO_LINGER 0: the client reads ECONNRESET); a shutdown()
    /// first keeps it orderly, as Kestrel's transport does for its aborts. The kernel still resets a client whose bytes
    /// were left unread, on both engines.
    /// </summary>
    private void DisposeSocket()
    {
        if ((Interlocked.Or(ref _ended, Disposed) & Disposed) == 0 && _managed?.Socket is { } socket)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already reset or not connected: the dispose below closes it all the same.
            }
            socket.Dispose();
        }
    }

    /// <summary>Made on first use, never for a plain epoll connection, whose idle cost is then only this object.</summary>
    private ManagedState Managed => _managed ??= new ManagedState();

    /// <summary>What only connections with a managed socket (or --dump) need.</summary>
    private sealed class ManagedState
    {
        /// <summary>The managed socket: for the whole life on sockets, until the hand-over on epoll.</summary>
        public Socket? Socket;

        public SocketEchoLoop? Sockets;

        /// <summary>The task running the preamble and the sockets echo.</summary>
        public Task? Completion;

        /// <summary>After a PROXY preamble on epoll: completed when the loop closes the connection.</summary>
        public TaskCompletionSource? Done;

        /// <summary>A text dump's held-back start of a UTF-8 sequence cut by a piece's end (at most 3 bytes).</summary>
        public byte[]? DumpTail;

        public int DumpTailLength;
    }
}
