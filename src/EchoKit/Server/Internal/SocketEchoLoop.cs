using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace EchoKit.Server.Internal;

/// <summary>
/// The System.Net.Sockets engine's echo for one connection (and the only one for TLS).
/// <para>
/// The plain loop (TCP, Unix) waits for data without holding a buffer (a zero-byte receive); once data comes it
/// rents one buffer and keeps it while the client stays busy, reading into it and sending each chunk back before
/// reading more; when the client falls quiet for a sweep period the buffer goes back to the pool. The TLS loop does
/// the same through <see cref="SslStream"/>: a zero-byte read, then one read and its write per rented buffer.
/// Sending before reading again is the back-pressure: a client that does not read stops being read from, and the
/// server never holds more than one buffer for it.
/// </para>
/// </summary>
internal sealed class SocketEchoLoop(TcpEchoConnection connection, Socket socket)
{
    private readonly int _bufferSize = connection.Context.Server.Options.ReceiveBufferSize;
    private bool _active;            // set per receive, cleared by the sweep: a plain write, no fence on the hot path
    private bool _holdsBuffer;
    private CancellationTokenSource? _idle; // made when the connection first gets busy: idle ones never need it
    private SslStream? _tls;
    private int _writing;      // TLS: 1 while an echo write is in flight (its record cannot be followed by an alert mid-way)
    private int _closeRequested; // TLS: a server-initiated close asked the loop to send close_notify and end

    /// <summary>
    /// How long a server-initiated close of a TLS connection waits for its close_notify alert to be written, so a
    /// peer that does not read cannot hold the close (or the stop order) longer than this. About 30 bytes: with room
    /// in the socket's send buffer it is written at once.
    /// </summary>
    internal static readonly TimeSpan CloseNotifyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>True while the connection holds a pooled receive buffer (it is busy), for diagnostics.</summary>
    public bool HoldsBuffer => Volatile.Read(ref _holdsBuffer);

    /// <summary>Echoes until the client half-closes (then FIN after the last byte); throws on socket errors.</summary>
    public async Task RunAsync(ReadOnlyMemory<byte> earlyData, SslStream? tls)
    {
        if (tls is not null)
        {
            Volatile.Write(ref _tls, tls);
            try
            {
                await StreamEchoAsync(tls).ConfigureAwait(false);
            }
            finally
            {
                tls.Dispose();
            }
            return;
        }
        if (!earlyData.IsEmpty)
        {
            // The client's first bytes came with the PROXY header: echo them before reading on.
            connection.Received(earlyData.Span);
            await SendAllAsync(earlyData).ConfigureAwait(false);
        }
        // Non-blocking sync receives drain a full socket without parking a thread; the async operations
        // are unaffected by this flag.
        socket.Blocking = false;
        while (true)
        {
            // Idle: wait for data holding no buffer, so a silent client costs no receive memory.
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

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
                return; // the client half-closed and everything was echoed
            }
        }
    }

    /// <summary>
    /// A graceful close from another thread (idle): shutdown() sends FIN and wakes the pending receive, which then
    /// ends the loop. Disposing under a pending operation would reset the client instead.
    /// </summary>
    public void CloseGracefully()
    {
        if (TryRequestTlsClose())
        {
            return;
        }
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            connection.Abort(ConnectionCloseReason.Idle); // already broken or closed: make sure the loop ends anyway
        }
    }

    /// <summary>
    /// A server-initiated close of a TLS connection (idle, stop), from another thread: shutdown(SHUT_RD) wakes the
    /// loop's pending read with end of stream, and the loop, which owns the <see cref="SslStream"/>, writes
    /// close_notify and then FIN (RFC 8446 6.1), as it does when the client ends. False when this is not a TLS echo,
    /// or an echo write is in flight (an alert cannot go in the middle of a record): the caller closes the socket.
    /// </summary>
    public bool TryRequestTlsClose()
    {
        if (Volatile.Read(ref _tls) is null)
        {
            return false;
        }
        // With TryBeginWrite: each side announces itself, then looks at the other, so at least one sees the other.
        Interlocked.Exchange(ref _closeRequested, 1);
        if (Volatile.Read(ref _writing) != 0)
        {
            return false;
        }
        try
        {
            socket.Shutdown(SocketShutdown.Receive);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false; // already broken or closed: the caller closes it all the same
        }
    }

    private bool TryBeginWrite()
    {
        Interlocked.Exchange(ref _writing, 1);
        if (Volatile.Read(ref _closeRequested) != 0)
        {
            Volatile.Write(ref _writing, 0);
            return false;
        }
        return true;
    }

    /// <summary>close_notify, then FIN; the alert's write is bounded by <see cref="CloseNotifyTimeout"/>.</summary>
    private async Task CloseTlsAsync(SslStream tls)
    {
        var notify = tls.ShutdownAsync();
        try
        {
            await notify.WaitAsync(CloseNotifyTimeout, connection.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer does not read: give up the alert. shutdown() makes the stuck write fail, and it is awaited
            // here so no task is left behind.
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already reset or closed: the write fails all the same.
            }
            try
            {
                await notify.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // Expected: the write was cut off above.
            }
            return;
        }
        socket.Shutdown(SocketShutdown.Send);
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

    /// <summary>The largest buffer a bulk client grows to: <see cref="EchoServerOptions.MaxReadGrowth"/> times the configured read size.</summary>
    private int MaxReadSize => _bufferSize * EchoServerOptions.MaxReadGrowth;

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
                    received = await socket.ReceiveAsync(buffer.AsMemory(0, size), SocketFlags.None, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !connection.IsAborted)
                {
                    return BusyEnd.Quiet; // quiet for a whole sweep period: give the buffer back and wait without it
                }
                if (received == 0)
                {
                    // The client half-closed. Everything it sent has been echoed (we send before reading on),
                    // so close our side too: it reads our FIN right after the last echoed byte.
                    socket.Shutdown(SocketShutdown.Send);
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
            connection.Received(buffer.AsSpan(0, received));
            await SendAllAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
            if (received < size)
            {
                return null;
            }
            if (size < MaxReadSize)
            {
                return BusyEnd.Grow;
            }
            received = socket.Receive(buffer.AsSpan(0, size), SocketFlags.None, out var error);
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
                socket.Shutdown(SocketShutdown.Send);
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
                    // close_notify or FIN from the client (everything was echoed), or a server-initiated close
                    // (TryRequestTlsClose): ours, then FIN.
                    await CloseTlsAsync(tls).ConfigureAwait(false);
                    return;
                }
                connection.Received(buffer.AsSpan(0, received));
                if (!TryBeginWrite())
                {
                    await CloseTlsAsync(tls).ConfigureAwait(false); // the server is closing it: no more echoes
                    return;
                }
                try
                {
                    await tls.WriteAsync(buffer.AsMemory(0, received)).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _writing, 0);
                }
                connection.Sent(received);
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
            var sent = await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            connection.Sent(sent);
            data = data[sent..];
        }
    }
}
