using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// One accepted client. An idle connection waits for data without holding a buffer (a zero-byte receive); once
/// data comes it rents one buffer and keeps it while the client stays busy, reading into it and sending each
/// chunk back before reading more; when the client falls quiet for a sweep period the buffer goes back to the
/// pool. Sending before reading again is the back-pressure: a client that does not read stops being read from,
/// and the server never holds more than one buffer (<see cref="EchoServerOptions.ReceiveBufferSize"/>) for it.
/// </summary>
internal sealed class TcpEchoConnection
{
    private readonly Socket _socket;
    private readonly string _listener;
    private readonly EndPoint? _remoteEndPoint;
    private string? _remote;
    private readonly int _bufferSize;
    private readonly DumpMode _dump;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly ListenerMetrics _metrics;
    private Decoder? _dumpDecoder;
    private long _bytesIn;
    private long _bytesOut;
    private volatile bool _aborted;
    private bool _active;            // set per receive, cleared by the sweep: a plain write, no fence on the hot path
    private bool _holdsBuffer;
    private CancellationTokenSource? _idle; // made when the connection first gets busy: idle ones never need it
    private int _disposed;

    public TcpEchoConnection(long id, Socket socket, string listener, EndPoint? remote, EchoServerOptions options, ILogger logger, TimeProvider time, ListenerMetrics metrics)
    {
        _metrics = metrics;
        Id = id;
        _socket = socket;
        _listener = listener;
        _remoteEndPoint = remote;
        _bufferSize = options.ReceiveBufferSize;
        _dump = options.Dump;
        _logger = logger;
        _time = time;
        _startTimestamp = time.GetTimestamp();
    }

    public long Id { get; }

    /// <summary>The client's address as text, formatted on first use (only when something is logged).</summary>
    private string Remote => _remote ??= _remoteEndPoint is IPEndPoint ip ? EndpointResolver.FormatAddress(ip) : _remoteEndPoint?.ToString() ?? "unknown";

    private string FormatLocal()
    {
        try
        {
            return _socket.LocalEndPoint is IPEndPoint ip ? EndpointResolver.FormatAddress(ip) : _socket.LocalEndPoint?.ToString() ?? "unknown";
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return "unknown"; // the client is already gone; the close line will say how
        }
    }

    /// <summary>Bytes received so far (read from another thread only for diagnostics).</summary>
    public long BytesIn => Volatile.Read(ref _bytesIn);

    /// <summary>True while the connection holds a pooled receive buffer (it is busy), for diagnostics.</summary>
    public bool HoldsBuffer => Volatile.Read(ref _holdsBuffer);

    /// <summary>Bytes echoed so far.</summary>
    public long BytesOut => Volatile.Read(ref _bytesOut);

    /// <summary>The connection's whole life; never faults (faults are logged and end the connection only).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start(ConnectionTracker tracker) => Completion = RunAsync(tracker);

    /// <summary>Closes the socket under the loop; the loop then ends with reason Shutdown. Harmless twice.</summary>
    public void Abort()
    {
        _aborted = true;
        DisposeSocket();
    }

    private async Task RunAsync(ConnectionTracker tracker)
    {
        // Let the caller (the accept loop) go on at once; the loop below runs on the socket's completions.
        await Task.Yield();
        if (_logger.IsEnabled(LogLevel.Information))
        {
            // Guarded: the addresses are formatted only when someone reads them.
            EchoKitLog.ConnectionOpened(_logger, Id, Remote, FormatLocal(), _listener);
        }
        _metrics.ConnectionOpened();
        var reason = ConnectionCloseReason.Error;
        try
        {
            // Non-blocking sync receives drain a full socket without parking a thread; the async operations
            // below are unaffected by this flag.
            _socket.Blocking = false;
            while (true)
            {
                // Idle: wait for data holding no buffer, so a silent client costs no receive memory.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

                var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
                try
                {
                    if (!await EchoWhileActiveAsync(buffer).ConfigureAwait(false))
                    {
                        break; // the client half-closed and everything was echoed
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            reason = ConnectionCloseReason.ClosedByPeer;
        }
        catch (Exception ex) when (_aborted && ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = ConnectionCloseReason.Shutdown;
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
        {
            reason = ConnectionCloseReason.Reset;
            EchoKitLog.ConnectionReset(_logger, Id, Remote, _listener, ex.SocketErrorCode.ToString());
        }
        catch (Exception ex)
        {
            EchoKitLog.ConnectionFault(_logger, Id, Remote, _listener, ex);
        }
        finally
        {
            DisposeSocket();
            var elapsed = _time.GetElapsedTime(_startTimestamp);
            // Metrics before the log line: whoever sees the line (a test, an operator) finds the counters updated.
            _metrics.ConnectionClosed(reason, elapsed);
            if (_logger.IsEnabled(LogLevel.Information))
            {
                EchoKitLog.ConnectionClosed(_logger, Id, Remote, reason.ToDisplayString(), _bytesIn, _bytesOut, (long)elapsed.TotalMilliseconds, _listener);
            }
            tracker.Remove(this);
        }
    }

    /// <summary>
    /// Echoes while data keeps coming, keeping <paramref name="buffer"/> for the next receive: a receive posted
    /// with its buffer costs one system call less per message than a zero-byte wait followed by a read. Returns
    /// false when the client half-closed, true when the idle sweep asked for the buffer back.
    /// </summary>
    private async ValueTask<bool> EchoWhileActiveAsync(byte[] buffer)
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
                    received = await _socket.ReceiveAsync(buffer.AsMemory(0, _bufferSize), SocketFlags.None, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !_aborted)
                {
                    return true; // quiet for a whole sweep period: give the buffer back and wait without it
                }
                if (received == 0)
                {
                    // The client half-closed. Everything it sent has been echoed (we send before reading on),
                    // so close our side too: it reads our FIN right after the last echoed byte.
                    _socket.Shutdown(SocketShutdown.Send);
                    return false;
                }
                _active = true;
                if (!await EchoChunkAsync(buffer, received).ConfigureAwait(false))
                {
                    return false;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _holdsBuffer, false);
        }
    }

    /// <summary>
    /// Sends back one received chunk; when it filled the buffer, more is likely waiting, so keep reading without
    /// blocking until the socket runs dry (bulk transfers stall on window updates otherwise). Returns false when
    /// the client half-closed during the drain.
    /// </summary>
    private async ValueTask<bool> EchoChunkAsync(byte[] buffer, int received)
    {
        while (true)
        {
            _bytesIn += received;
            _metrics.AddReceived(received);
            if (_dump != DumpMode.None)
            {
                Dump(buffer.AsSpan(0, received));
            }
            await SendAllAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
            if (received < _bufferSize)
            {
                return true;
            }
            received = _socket.Receive(buffer.AsSpan(0, _bufferSize), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return true;
            }
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
            if (received == 0)
            {
                _socket.Shutdown(SocketShutdown.Send);
                return false;
            }
        }
    }

    /// <summary>
    /// Called by the server's sweep once per period: a connection that held its buffer through a whole period
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

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            _bytesOut += sent;
            _metrics.AddSent(sent);
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
