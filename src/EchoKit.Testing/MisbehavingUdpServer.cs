using System.Net;
using System.Net.Sockets;

namespace EchoKit.Testing;

/// <summary>
/// A UDP echo server on 127.0.0.1, port 0, that misbehaves the way networks do: it drops, duplicates or reorders
/// datagrams, on a fixed pattern so a test knows exactly which. Datagrams are counted in the order they arrive,
/// over all clients, starting at 1. Dispose it to stop it.
/// </summary>
/// <example>
/// <code>
/// await using var server = MisbehavingUdpServer.Dropping(every: 3);   // datagrams 3, 6, 9 ... get no answer
/// </code>
/// </example>
public sealed class MisbehavingUdpServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Mode _mode;
    private readonly int _n;
    private readonly TimeSpan _flushAfter;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(byte[] Data, EndPoint Peer)> _held = [];
    private readonly ITimer? _flushTimer;
    private readonly Func<long, byte[], IPEndPoint, byte[]?>? _answer;
    private readonly Task _loop;
    private long _sequence;
    private long _received;
    private long _sent;
    private long _dropped;
    private int _disposed;

    private enum Mode { Drop, Duplicate, Reorder, Custom }

    private MisbehavingUdpServer(Mode mode, int n, TimeSpan flushAfter, TimeProvider? timeProvider, Func<long, byte[], IPEndPoint, byte[]?>? answer = null)
    {
        _mode = mode;
        _answer = answer;
        _n = n;
        _flushAfter = flushAfter;
        _time = timeProvider ?? TimeProvider.System;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        if (mode == Mode.Reorder)
        {
            _flushTimer = _time.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        _loop = ReceiveAsync();
    }

    /// <summary>The bound address, 127.0.0.1 and the port the OS chose.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The bound port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The bound address as a URI, e.g. <c>udp://127.0.0.1:43121</c>.</summary>
    public Uri Uri => new($"udp://{EndPoint}");

    /// <summary>Datagrams received and handled (answered, dropped or held) so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams sent back so far, duplicates included.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Datagrams dropped so far.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Echoes every datagram except every <paramref name="every"/>-th (the n-th, 2n-th, ...), which gets no answer.</summary>
    /// <param name="every">1 drops them all, 2 every other one.</param>
    public static MisbehavingUdpServer Dropping(int every)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        return new(Mode.Drop, every, TimeSpan.Zero, null);
    }

    /// <summary>Echoes every datagram, and every <paramref name="every"/>-th one twice.</summary>
    /// <param name="every">1 duplicates them all.</param>
    public static MisbehavingUdpServer Duplicating(int every)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        return new(Mode.Duplicate, every, TimeSpan.Zero, null);
    }

    /// <summary>
    /// Holds datagrams in groups of <paramref name="window"/> and echoes each full group in reverse order (with 2:
    /// 2, 1, 4, 3, ...). A group still incomplete after <paramref name="flushAfter"/> without a new datagram is echoed
    /// as it stands, also reversed, so no datagram is held forever.
    /// </summary>
    /// <param name="window">Datagrams per group, at least 2.</param>
    /// <param name="flushAfter">Quiet time before an incomplete group is sent; 200 ms when omitted.</param>
    /// <param name="timeProvider">The clock of that wait (a fake one makes it test-controlled); the system clock when omitted.</param>
    public static MisbehavingUdpServer Reordering(int window = 2, TimeSpan? flushAfter = null, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        var flush = flushAfter ?? TimeSpan.FromMilliseconds(200);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(flush, TimeSpan.Zero, nameof(flushAfter));
        return new(Mode.Reorder, window, flush, timeProvider);
    }

    /// <summary>
    /// Answers each datagram as <paramref name="answer"/> says, for misbehaviour of your own: it gets the datagram's
    /// number (from 1), its bytes and its sender, and returns the bytes to send back to that sender, or null for no
    /// answer. It runs on the receive loop, one datagram at a time, in arrival order.
    /// </summary>
    /// <param name="answer">The answer to each datagram, or null for none.</param>
    /// <example>
    /// <code>
    /// await using var server = MisbehavingUdpServer.Custom((n, data, _) => n == 1 ? null : data);   // loses the first
    /// </code>
    /// </example>
    public static MisbehavingUdpServer Custom(Func<long, byte[], IPEndPoint, byte[]?> answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return new(Mode.Custom, 1, TimeSpan.Zero, null, answer);
    }

    /// <summary>Stops receiving and closes the socket; held datagrams are not sent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_flushTimer is not null)
        {
            await _flushTimer.DisposeAsync().ConfigureAwait(false);
        }
        lock (_lock)
        {
            _held.Clear();
            _socket.Dispose();
        }
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult got;
            try
            {
                got = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return; // disposed
            }
            catch (SocketException)
            {
                // An ICMP "port unreachable" from an earlier answer surfaces here as a reset: the next datagram is fine.
                continue;
            }
            var number = ++_sequence;
            var data = buffer.AsMemory(0, got.ReceivedBytes);
            switch (_mode)
            {
                case Mode.Drop when number % _n == 0:
                    Interlocked.Increment(ref _dropped);
                    break;
                case Mode.Drop:
                    Send(data.Span, got.RemoteEndPoint);
                    break;
                case Mode.Duplicate:
                    Send(data.Span, got.RemoteEndPoint);
                    if (number % _n == 0)
                    {
                        Send(data.Span, got.RemoteEndPoint);
                    }
                    break;
                case Mode.Reorder:
                    Hold(data.ToArray(), got.RemoteEndPoint);
                    break;
                case Mode.Custom:
                    if (_answer!(number, data.ToArray(), (IPEndPoint)got.RemoteEndPoint) is { } answer)
                    {
                        Send(answer, got.RemoteEndPoint);
                    }
                    else
                    {
                        Interlocked.Increment(ref _dropped);
                    }
                    break;
            }
            // Counted once handled, so a test that sees the count knows the datagram was answered, dropped or held.
            Interlocked.Increment(ref _received);
        }
    }

    private void Hold(byte[] data, EndPoint peer)
    {
        lock (_lock)
        {
            _held.Add((data, peer));
            if (_held.Count < _n)
            {
                _flushTimer!.Change(_flushAfter, Timeout.InfiniteTimeSpan);
                return;
            }
            _flushTimer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            SendHeldReversed();
        }
    }

    private void Flush()
    {
        lock (_lock)
        {
            SendHeldReversed();
        }
    }

    private void SendHeldReversed()
    {
        for (var i = _held.Count - 1; i >= 0; i--)
        {
            Send(_held[i].Data, _held[i].Peer);
        }
        _held.Clear();
    }

    private void Send(ReadOnlySpan<byte> data, EndPoint peer)
    {
        try
        {
            _socket.SendTo(data, SocketFlags.None, peer);
            Interlocked.Increment(ref _sent);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client is gone (ICMP unreachable) or the server is being disposed: UDP loses it, as it may.
        }
    }
}
