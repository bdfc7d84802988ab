using System.Buffers;
using System.Net.Sockets;
using System.Text;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// One accepted client. Its loop waits for data without holding a buffer (a zero-byte receive), rents a buffer,
/// reads everything the kernel has without blocking, sends each chunk back before reading more, and returns the
/// buffer when the socket runs dry. Sending before reading again is the back-pressure: a client that does not read
/// stops being read from, and the server never holds more than one buffer for it.
/// </summary>
internal sealed class TcpEchoConnection
{
    private readonly Socket _socket;
    private readonly string _listener;
    private readonly string _remote;
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
    private int _disposed;

    public TcpEchoConnection(long id, Socket socket, string listener, string remote, EchoServerOptions options, ILogger logger, TimeProvider time, ListenerMetrics metrics)
    {
        _metrics = metrics;
        Id = id;
        _socket = socket;
        _listener = listener;
        _remote = remote;
        _bufferSize = options.ReceiveBufferSize;
        _dump = options.Dump;
        _logger = logger;
        _time = time;
        _startTimestamp = time.GetTimestamp();
    }

    public long Id { get; }

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
        EchoKitLog.ConnectionOpened(_logger, Id, _remote, _listener);
        _metrics.ConnectionOpened();
        var reason = ConnectionCloseReason.Error;
        try
        {
            await EchoAsync().ConfigureAwait(false);
            reason = ConnectionCloseReason.ClosedByPeer;
        }
        catch (Exception ex) when (_aborted && ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = ConnectionCloseReason.Shutdown;
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
        {
            reason = ConnectionCloseReason.Reset;
            EchoKitLog.ConnectionReset(_logger, Id, _remote, _listener, ex.SocketErrorCode.ToString());
        }
        catch (Exception ex)
        {
            EchoKitLog.ConnectionFault(_logger, Id, _remote, _listener, ex);
        }
        finally
        {
            DisposeSocket();
            var elapsed = _time.GetElapsedTime(_startTimestamp);
            // Metrics before the log line: whoever sees the line (a test, an operator) finds the counters updated.
            _metrics.ConnectionClosed(reason, elapsed);
            EchoKitLog.ConnectionClosed(_logger, Id, _remote, reason.ToDisplayString(), _bytesIn, _bytesOut, (long)elapsed.TotalMilliseconds, _listener);
            tracker.Remove(this);
        }
    }

    private async Task EchoAsync()
    {
        // Non-blocking sync receives drain what the kernel holds without parking a thread; the async
        // operations below are unaffected by this flag.
        _socket.Blocking = false;
        while (true)
        {
            // Wait for data while holding no buffer: an idle client costs no receive memory.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

            var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
            try
            {
                while (true)
                {
                    var received = _socket.Receive(buffer.AsSpan(0, _bufferSize), SocketFlags.None, out var error);
                    if (error == SocketError.WouldBlock)
                    {
                        break; // drained: give the buffer back and wait again
                    }
                    if (error != SocketError.Success)
                    {
                        throw new SocketException((int)error);
                    }
                    if (received == 0)
                    {
                        // The client half-closed. Everything it sent has been echoed (we send before reading on),
                        // so close our side too: it reads our FIN after the last echoed byte.
                        _socket.Shutdown(SocketShutdown.Send);
                        return;
                    }
                    _bytesIn += received;
                    _metrics.AddReceived(received);
                    if (_dump != DumpMode.None)
                    {
                        Dump(buffer.AsSpan(0, received));
                    }
                    await SendAllAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
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
        EchoKitLog.Data(_logger, Id, _remote, data.Length, text, _listener);
    }

    private void DisposeSocket()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }
    }
}
