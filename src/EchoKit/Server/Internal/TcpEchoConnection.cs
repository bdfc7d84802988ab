using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Server.ProxyProtocol;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// One accepted stream client, on a TCP, TLS or Unix listener. Before echoing it may read a PROXY header (to learn
/// the real client's address) and run a TLS handshake, each bounded in time; a failure there is a rejection,
/// logged once, and the connection is never "opened".
/// <para>
/// The plain loop (TCP, Unix) waits for data without holding a buffer (a zero-byte receive); once data comes it
/// rents one buffer and keeps it while the client stays busy, reading into it and sending each chunk back before
/// reading more; when the client falls quiet for a sweep period the buffer goes back to the pool. The TLS loop does the same through <see cref="SslStream"/>: a zero-byte read, then one
/// read and its write per rented buffer. Sending before reading again is the back-pressure: a client that does not
/// read stops being read from, and the server never holds more than one buffer for it.
/// </para>
/// </summary>
internal sealed class TcpEchoConnection
{
    private const int NotAborted = -1;

    private readonly Socket _socket;
    private readonly StreamListenerContext _context;
    private readonly string _listener;
    private readonly int _bufferSize;
    private readonly DumpMode _dump;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly IPEndPoint? _remoteIp;
    private string? _remote; // formatted on first use: most connections are never logged
    private Decoder? _dumpDecoder;
    private long _bytesIn;
    private long _bytesOut;
    private long _lastActivity;
    private readonly bool _tracksActivity; // only --idle-timeout reads the clock stamps: skip them otherwise
    private volatile bool _echoing;
    private readonly ListenerMetrics _metrics;
    private bool _active;            // set per receive, cleared by the sweep: a plain write, no fence on the hot path
    private bool _holdsBuffer;
    private CancellationTokenSource? _idle; // made when the connection first gets busy: idle ones never need it
    private int _abortReason = NotAborted;
    private int _disposed;

    public TcpEchoConnection(long id, Socket socket, StreamListenerContext context, IPEndPoint? remoteIp, string? remote)
    {
        Id = id;
        _socket = socket;
        _context = context;
        _listener = context.Uri;
        _metrics = context.Metrics;
        _remoteIp = remoteIp;
        _remote = remote;
        _bufferSize = context.Server.Options.ReceiveBufferSize;
        _dump = context.Server.Options.Dump;
        _logger = context.Server.Logger;
        _time = context.Server.Time;
        _startTimestamp = _time.GetTimestamp();
        _lastActivity = _startTimestamp;
        _tracksActivity = context.Server.Options.IdleTimeout is not null;
    }

    public long Id { get; }

    /// <summary>The client's address as text (the real client's when a PROXY header said so).</summary>
    private string Remote => _remote ??= _remoteIp is not null ? EndpointResolver.FormatAddress(_remoteIp) : "unknown";

    /// <summary>Bytes received so far (read from another thread only for diagnostics).</summary>
    public long BytesIn => Volatile.Read(ref _bytesIn);

    /// <summary>Bytes echoed so far.</summary>
    public long BytesOut => Volatile.Read(ref _bytesOut);

    /// <summary>True while the connection holds a pooled receive buffer (it is busy), for diagnostics.</summary>
    public bool HoldsBuffer => Volatile.Read(ref _holdsBuffer);

    /// <summary>The connection's whole life; never faults (faults are logged and end the connection only).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>True when it holds a connection-limit permit, released when it ends.</summary>
    public bool HoldsPermit { get; init; }

    public void Start(ConnectionTracker tracker) => Completion = RunAsync(tracker);

    /// <summary>Closes the socket under the loop; the loop then ends with reason Shutdown. Harmless twice.</summary>
    public void Abort() => Abort(ConnectionCloseReason.Shutdown);

    /// <summary>Closes the socket under the loop, which ends with <paramref name="reason"/> (the first reason given wins).</summary>
    public void Abort(ConnectionCloseReason reason)
    {
        Interlocked.CompareExchange(ref _abortReason, (int)reason, NotAborted);
        DisposeSocket();
    }

    /// <summary>Closes the connection as idle if it is echoing and nothing moved since <paramref name="now"/> - <paramref name="idleTicks"/>.</summary>
    public void CloseIfIdle(long now, long idleTicks)
    {
        // Before the echo starts, the PROXY and handshake timeouts bound the connection instead.
        if (_echoing && now - Volatile.Read(ref _lastActivity) >= idleTicks
            && Interlocked.CompareExchange(ref _abortReason, (int)ConnectionCloseReason.Idle, NotAborted) == NotAborted)
        {
            // A graceful close: shutdown() sends FIN and wakes the loop's pending receive, which then ends and
            // disposes the socket itself. Disposing under a pending operation would reset the client instead.
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                DisposeSocket(); // already broken or closed: make sure the loop ends anyway
            }
        }
    }

    private bool IsAborted => Volatile.Read(ref _abortReason) != NotAborted;

    private void MarkActivity()
    {
        if (_tracksActivity)
        {
            Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        }
    }

    private async Task RunAsync(ConnectionTracker tracker)
    {
        // Let the caller (the accept loop) go on at once; the loop below runs on the socket's completions.
        await Task.Yield();
        var opened = false;
        var reason = ConnectionCloseReason.Error;
        SslStream? tls = null;
        byte[]? early = null;
        try
        {
            var earlyData = ReadOnlyMemory<byte>.Empty;
            if (_context.UseProxyProtocol)
            {
                var options = _context.Server.Options.ProxyProtocol;
                early = ArrayPool<byte>.Shared.Rent(ProxyHeaderReader.BufferSize(options));
                var outcome = await ProxyHeaderReader.ReadAsync(_socket, early, options, _time).ConfigureAwait(false);
                if (!ApplyProxyHeader(outcome))
                {
                    return;
                }
                earlyData = early.AsMemory(outcome.HeaderLength, outcome.Received - outcome.HeaderLength);
            }
            if (_context.Tls is { } tlsOptions)
            {
                tls = await HandshakeAsync(tlsOptions, earlyData).ConfigureAwait(false);
                if (tls is null)
                {
                    return;
                }
                earlyData = ReadOnlyMemory<byte>.Empty; // the handshake consumed it
            }

            if (_logger.IsEnabled(LogLevel.Information))
            {
                // Guarded: the local address is looked up only when someone reads it.
                EchoKitLog.ConnectionOpened(_logger, Id, Remote, FormatLocal(), _listener);
            }
            _metrics.ConnectionOpened();
            opened = true;
            MarkActivity();
            _echoing = true;
            if (tls is not null)
            {
                await StreamEchoAsync(tls).ConfigureAwait(false);
            }
            else
            {
                if (!earlyData.IsEmpty)
                {
                    // The client's first bytes came with the PROXY header: echo them before reading on.
                    Received(earlyData.Span);
                    await SendAllAsync(earlyData).ConfigureAwait(false);
                }
                // Non-blocking sync receives drain a full socket without parking a thread; the async operations
                // are unaffected by this flag. (The loop lives here rather than in a method of its own so an idle
                // connection carries one async state machine, not two: it is most of what idle costs.)
                _socket.Blocking = false;
                while (true)
                {
                    // Idle: wait for data holding no buffer, so a silent client costs no receive memory.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

                    // Busy: read into one rented buffer; a client whose reads fill it gets a bigger one (up to
                    // MaxReadSize), a quiet one starts small again.
                    var readSize = _bufferSize;
                    BusyEnd end;
                    do
                    {
                        var buffer = ArrayPool<byte>.Shared.Rent(readSize);
                        try
                        {
                            end = await EchoWhileBusyAsync(buffer, readSize).ConfigureAwait(false);
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                        }
                        readSize = Math.Min(readSize * 2, MaxReadSize);
                    }
                    while (end == BusyEnd.Grow);
                    if (end == BusyEnd.HalfClosed)
                    {
                        break; // the client half-closed and everything was echoed
                    }
                }
            }
            // An idle close ends the loop as a normal end of stream would.
            reason = IsAborted ? (ConnectionCloseReason)Volatile.Read(ref _abortReason) : ConnectionCloseReason.ClosedByPeer;
        }
        catch (Exception ex) when (IsAborted && ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            reason = (ConnectionCloseReason)Volatile.Read(ref _abortReason);
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
        {
            reason = ConnectionCloseReason.Reset;
            EchoKitLog.ConnectionReset(_logger, Id, Remote, _listener, ex.SocketErrorCode.ToString());
        }
        catch (IOException ex) when (ex.InnerException is SocketException inner && SocketErrors.IsConnectionResetError(inner.SocketErrorCode))
        {
            // SslStream wraps socket errors in IOException.
            reason = ConnectionCloseReason.Reset;
            EchoKitLog.ConnectionReset(_logger, Id, Remote, _listener, inner.SocketErrorCode.ToString());
        }
        catch (Exception ex)
        {
            EchoKitLog.ConnectionFault(_logger, Id, Remote, _listener, ex);
        }
        finally
        {
            if (early is not null)
            {
                ArrayPool<byte>.Shared.Return(early);
            }
            tls?.Dispose();
            DisposeSocket();
            if (HoldsPermit)
            {
                // Before the closed event: whoever sees the close may use the slot at once.
                _context.Server.Limiter?.Release();
            }
            if (opened)
            {
                var elapsed = _time.GetElapsedTime(_startTimestamp);
                // Metrics before the log line: whoever sees the line (a test, an operator) finds the counters updated.
                _metrics.ConnectionClosed(reason, elapsed);
                if (_logger.IsEnabled(LogLevel.Information))
                {
                    EchoKitLog.ConnectionClosed(_logger, Id, Remote, reason.ToDisplayString(), _bytesIn, _bytesOut, (long)elapsed.TotalMilliseconds, _listener);
                }
            }
            tracker.Remove(this);
        }
    }

    /// <summary>Adopts the real client's address from the header, or rejects the connection (false).</summary>
    private bool ApplyProxyHeader(ProxyReadOutcome outcome)
    {
        if (outcome.Header is not { } header)
        {
            _context.CountRejection(ConnectionRejectReason.ProxyHeader);
            EchoKitLog.ProxyHeaderRejected(_logger, Id, Remote, _listener, outcome.Error ?? "invalid");
            return false;
        }
        var proxy = Remote;
        if (header.Command == ProxyCommand.Proxy && header.Source is { } source)
        {
            _remote = EndpointResolver.FormatAddress(source);
        }
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            EchoKitLog.ProxyHeaderAccepted(_logger, Id, proxy, _listener, header.Version,
                header.Command == ProxyCommand.Local ? "LOCAL" : "PROXY", Remote);
        }
        return true;
    }

    private async Task<SslStream?> HandshakeAsync(SslServerAuthenticationOptions options, ReadOnlyMemory<byte> earlyData)
    {
        Stream transport = new NetworkStream(_socket, ownsSocket: false);
        if (!earlyData.IsEmpty)
        {
            transport = new PrefixedStream(earlyData.ToArray(), transport);
        }
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        var timeout = _context.Server.Options.Tls.HandshakeTimeout;
        using var deadline = new CancellationTokenSource(timeout, _time);
        try
        {
            await tls.AuthenticateAsServerAsync(options, deadline.Token).ConfigureAwait(false);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                EchoKitLog.TlsHandshakeCompleted(_logger, Id, Remote, _listener, tls.SslProtocol.ToString(), tls.NegotiatedCipherSuite.ToString());
            }
            return tls;
        }
        catch (Exception ex) when (!IsAborted && ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            tls.Dispose();
            _context.CountRejection(ConnectionRejectReason.TlsHandshake);
            _metrics.TlsHandshakeFailed(deadline.IsCancellationRequested ? "timeout" : "error");
            var why = deadline.IsCancellationRequested
                ? $"no handshake within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s"
                : Innermost(ex);
            EchoKitLog.TlsHandshakeFailed(_logger, Id, Remote, _listener, why);
            return null;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex.Message.ReplaceLineEndings(" ");
    }

    /// <summary>How a busy period ended.</summary>
    private enum BusyEnd
    {
        /// <summary>The client half-closed; everything it sent was echoed.</summary>
        HalfClosed,
        /// <summary>Quiet for a sweep period: the buffer goes back to the pool.</summary>
        Quiet,
        /// <summary>A read filled the buffer: go on with a bigger one.</summary>
        Grow,
    }

    /// <summary>The largest buffer a bulk client grows to: four times the configured read size.</summary>
    private int MaxReadSize => _bufferSize * 4;

    /// <summary>
    /// Echoes while data keeps coming, keeping <paramref name="buffer"/> for the next receive: a receive posted
    /// with its buffer costs one system call less per message than a zero-byte wait followed by a read.
    /// </summary>
    private async ValueTask<BusyEnd> EchoWhileBusyAsync(byte[] buffer, int size)
    {
        var idle = _idle;
        if (idle is null || idle.IsCancellationRequested)
        {
            // First busy period, or the sweep cancelled the previous one: this one gets a fresh token.
            _idle = idle = new CancellationTokenSource();
        }
        Volatile.Write(ref _holdsBuffer, true);
        try
        {
            while (true)
            {
                int received;
                try
                {
                    received = await _socket.ReceiveAsync(buffer.AsMemory(0, size), SocketFlags.None, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !IsAborted)
                {
                    return BusyEnd.Quiet; // quiet for a whole sweep period: give the buffer back and wait without it
                }
                if (received == 0)
                {
                    // The client half-closed. Everything it sent has been echoed (we send before reading on),
                    // so close our side too: it reads our FIN right after the last echoed byte.
                    _socket.Shutdown(SocketShutdown.Send);
                    return BusyEnd.HalfClosed;
                }
                _active = true;
                var end = await EchoChunkAsync(buffer, size, received).ConfigureAwait(false);
                if (end is { } finished)
                {
                    return finished;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _holdsBuffer, false);
        }
    }

    /// <summary>
    /// Sends back one received chunk. When it filled the buffer, more is likely waiting: below the largest size,
    /// ask for a bigger buffer (<see cref="BusyEnd.Grow"/>); at it, keep reading without blocking until the socket
    /// runs dry (bulk transfers stall on window updates otherwise). Null when the busy period goes on.
    /// </summary>
    private async ValueTask<BusyEnd?> EchoChunkAsync(byte[] buffer, int size, int received)
    {
        while (true)
        {
            Received(buffer.AsSpan(0, received));
            await SendAllAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
            if (received < size)
            {
                return null;
            }
            if (size < MaxReadSize)
            {
                return BusyEnd.Grow;
            }
            received = _socket.Receive(buffer.AsSpan(0, size), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return null;
            }
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
            if (received == 0)
            {
                _socket.Shutdown(SocketShutdown.Send);
                return BusyEnd.HalfClosed;
            }
        }
    }

    /// <summary>
    /// Called by the tracker's sweep once per period: a connection that held its buffer through a whole period
    /// without receiving anything gives it back (its pending receive is cancelled; no data is lost, it stays in
    /// the kernel until the next receive).
    /// </summary>
    public void SweepIdleBuffer()
    {
        if (_active)
        {
            _active = false;
        }
        else if (Volatile.Read(ref _holdsBuffer))
        {
            _idle?.Cancel();
        }
    }

    private string FormatLocal()
    {
        try
        {
            return EndpointResolver.FormatEndPoint(_socket.LocalEndPoint);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return "unknown"; // the client is already gone; the close line will say how
        }
    }

    private async Task StreamEchoAsync(SslStream tls)
    {
        while (true)
        {
            // Wait without a buffer, as the socket loop does; SslStream completes it once plaintext is ready.
            await tls.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
            try
            {
                var received = await tls.ReadAsync(buffer.AsMemory(0, _bufferSize)).ConfigureAwait(false);
                if (received == 0)
                {
                    // close_notify or FIN: everything was echoed; answer with ours, then FIN.
                    await tls.ShutdownAsync().ConfigureAwait(false);
                    _socket.Shutdown(SocketShutdown.Send);
                    return;
                }
                Received(buffer.AsSpan(0, received));
                await tls.WriteAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
                _bytesOut += received;
                _metrics.AddSent(received);
                MarkActivity();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private void Received(ReadOnlySpan<byte> data)
    {
        _bytesIn += data.Length;
        _metrics.AddReceived(data.Length);
        MarkActivity();
        if (_dump != DumpMode.None)
        {
            Dump(data);
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            _bytesOut += sent;
            _metrics.AddSent(sent);
            MarkActivity();
            data = data[sent..];
        }
    }

    private void Dump(ReadOnlySpan<byte> data)
    {
        string text;
        if (_dump == DumpMode.Hex)
        {
            text = HexDump.Format(data, _bytesIn - data.Length);
        }
        else
        {
            _dumpDecoder ??= new UTF8Encoding(false, false).GetDecoder();
            var chars = new char[_dumpDecoder.GetCharCount(data, flush: false)];
            var count = _dumpDecoder.GetChars(data, chars, flush: false);
            text = new string(chars, 0, count);
        }
        EchoKitLog.Data(_logger, Id, Remote, data.Length, text, _listener);
    }

    private void DisposeSocket()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }
    }
}
