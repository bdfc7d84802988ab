using System.Net;
using System.Net.Sockets;

namespace EchoKit.Testing;

/// <summary>
/// A TCP server on 127.0.0.1, port 0, that misbehaves in one chosen way on every connection, to check that client
/// code notices: corrupted bytes, an early close, a reset, a peer that never reads, a half-close, a slow answer.
/// Dispose it to close the listener and every connection.
/// </summary>
/// <example>
/// <code>
/// await using var server = MisbehavingTcpServer.CorruptingByte(3);
/// // a client that sends "hello" gets "hel" + (byte)('l' ^ 0xFF) + "o" back
/// </code>
/// </example>
public sealed class MisbehavingTcpServer : IAsyncDisposable
{
    private const int BufferSize = 16 * 1024;

    private readonly Socket _listener;
    private readonly Func<Socket, CancellationToken, Task> _handleConnection;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _lock = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _disposed;

    private MisbehavingTcpServer(Func<Socket, CancellationToken, Task> handleConnection)
    {
        _handleConnection = handleConnection;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(64);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The listening address, 127.0.0.1 and the port the OS chose.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The listening port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The listening address as a URI, e.g. <c>tcp://127.0.0.1:43121</c>.</summary>
    public Uri Uri => new($"tcp://{EndPoint}");

    /// <summary>Connections accepted so far.</summary>
    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>Echoes everything, but with the byte at <paramref name="offset"/> of each connection's stream inverted (XOR 0xFF).</summary>
    /// <param name="offset">Zero-based position in the stream of the byte to corrupt.</param>
    public static MisbehavingTcpServer CorruptingByte(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return new(async (socket, stop) =>
        {
            var buffer = new byte[BufferSize];
            long position = 0;
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, stop).ConfigureAwait(false) is var read and > 0)
            {
                if (offset >= position && offset < position + read)
                {
                    buffer[offset - position] ^= 0xFF;
                }
                position += read;
                await SendAllAsync(socket, buffer.AsMemory(0, read), stop).ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        });
    }

    /// <summary>
    /// Echoes the first <paramref name="byteCount"/> bytes of each connection, then closes it. A client that sent more
    /// than that may see a reset rather than an orderly end, as from any server that closes with unread data.
    /// </summary>
    /// <param name="byteCount">Bytes echoed before the close; 0 closes right after accept.</param>
    public static MisbehavingTcpServer ClosingAfter(long byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        return new(async (socket, stop) =>
        {
            await EchoAsync(socket, byteCount, stop).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Both);
        });
    }

    /// <summary>
    /// Echoes the first <paramref name="byteCount"/> bytes of each connection, then resets it (RST, not FIN): the
    /// client's next read or write fails with "connection reset".
    /// </summary>
    /// <param name="byteCount">Bytes echoed before the reset; 0 (the default) resets right after accept.</param>
    public static MisbehavingTcpServer Resetting(long byteCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        return new(async (socket, stop) =>
        {
            await EchoAsync(socket, byteCount, stop).ConfigureAwait(false);
            // Linger on with a zero timeout makes close() send RST and drop whatever is unsent.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        });
    }

    /// <summary>
    /// Accepts and then never reads and never writes, holding each connection open until disposed: a client's
    /// writes succeed until the socket buffers fill, then block. For checking send timeouts and back-pressure.
    /// </summary>
    public static MisbehavingTcpServer NeverReading() => new(async (_, stop) =>
    {
        await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
    });

    /// <summary>
    /// Echoes the first <paramref name="byteCount"/> bytes of each connection, then half-closes (FIN on its side only)
    /// and reads and discards the rest: the client sees the end of the stream early while its writes still succeed.
    /// </summary>
    /// <param name="byteCount">Bytes echoed before the half-close; 0 half-closes right after accept.</param>
    public static MisbehavingTcpServer HalfClosingAfter(long byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        return new(async (socket, stop) =>
        {
            await EchoAsync(socket, byteCount, stop).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            var sink = new byte[BufferSize];
            while (await socket.ReceiveAsync(sink, SocketFlags.None, stop).ConfigureAwait(false) > 0)
            {
                // Discarded: this server has stopped answering.
            }
        });
    }

    /// <summary>Echoes everything correctly, but waits <paramref name="delay"/> before sending back each chunk it reads.</summary>
    /// <param name="delay">The wait before each echo.</param>
    /// <param name="timeProvider">The clock the wait runs on (a fake one makes the delay test-controlled); the system clock when omitted.</param>
    public static MisbehavingTcpServer Slow(TimeSpan delay, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        var time = timeProvider ?? TimeProvider.System;
        return new(async (socket, stop) =>
        {
            var buffer = new byte[BufferSize];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, stop).ConfigureAwait(false) is var read and > 0)
            {
                await Task.Delay(delay, time, stop).ConfigureAwait(false);
                await SendAllAsync(socket, buffer.AsMemory(0, read), stop).ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        });
    }

    /// <summary>
    /// Runs <paramref name="handleConnection"/> for each accepted connection, for misbehaviour of your own. The socket
    /// is closed when it returns; the token is cancelled when the server is disposed. Socket errors it throws, directly
    /// or as the <see cref="IOException"/> of a stream over the socket (the client went away), are expected and ignored.
    /// </summary>
    /// <param name="handleConnection">What to do with each connection.</param>
    public static MisbehavingTcpServer Custom(Func<Socket, CancellationToken, Task> handleConnection)
    {
        ArgumentNullException.ThrowIfNull(handleConnection);
        return new(handleConnection);
    }

    /// <summary>Closes the listener and every connection, and waits for their handlers to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] open;
        lock (_lock)
        {
            open = _connections.ToArray();
        }
        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return; // disposed
            }
            catch (SocketException)
            {
                // A connection that died in the accept queue (ECONNABORTED): take the next one.
                continue;
            }
            Interlocked.Increment(ref _accepted);
            var serving = ServeAsync(socket);
            lock (_lock)
            {
                _connections.Add(serving);
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        try
        {
            await _handleConnection(socket, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client under test went away (IOException is how a NetworkStream or SslStream over the socket says
            // so), or the server is being disposed: both are what these servers provoke.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static async Task EchoAsync(Socket socket, long byteCount, CancellationToken stop)
    {
        var buffer = new byte[BufferSize];
        for (long done = 0; done < byteCount;)
        {
            var want = (int)Math.Min(buffer.Length, byteCount - done);
            var read = await socket.ReceiveAsync(buffer.AsMemory(0, want), SocketFlags.None, stop).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }
            await SendAllAsync(socket, buffer.AsMemory(0, read), stop).ConfigureAwait(false);
            done += read;
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken stop)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, stop).ConfigureAwait(false);
            data = data[sent..];
        }
    }
}
