using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// A bound UDP socket and its receive loops (RFC 862: one answering datagram per datagram, byte for byte, to the
/// exact source address and port). Each loop owns a buffer big enough for any datagram, one
/// <see cref="SocketAddress"/> and its own <see cref="Socket"/> object on the shared descriptor, and uses the
/// SocketAddress-based ReceiveFromAsync/SendToAsync, so a datagram costs no allocation. Before answering, a datagram
/// passes the rules (source port not denied, not our own port) and its source's rate limit
/// (<see cref="UdpSourceTable"/>). <see cref="StopAccepting"/> stops the loops; the socket closes when they end.
/// </summary>
internal sealed class UdpEchoListener : IEchoListener
{
    /// <summary>Buffer per loop: every UDP payload fits (65,527 B is the IPv6 maximum), so none is truncated.</summary>
    private const int BufferSize = 65_536;

    /// <summary>
    /// Datagrams a loop handles in a row without waiting before it yields its thread. With inline socket
    /// completions the loop runs on the epoll thread, and a never-ending flood would keep every other socket on that
    /// thread waiting; yielding moves the loop to the thread pool once in a while. A hop costs a thread wake-up
    /// (measured: yielding every 64 datagrams multiplied the server's system calls), so it is rare: at most a few
    /// milliseconds of other sockets' wait.
    /// </summary>
    private const int MaxSynchronousRun = 1024;

    private static readonly TimeSpan ReceiveFaultDelay = TimeSpan.FromMilliseconds(50);

    private readonly Socket[] _sockets;
    private readonly UdpOptions _options;
    private readonly DumpMode _dump;
    private readonly UdpCounters _counters;
    private readonly UdpSourceTable _sources;
    private readonly ulong[] _deniedPorts = new ulong[65536 / 64];
    private readonly int _ownPort;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<UdpCounterCell> _cells = [];
    private int _eventBudget;
    private int _disposed;

    private UdpEchoListener(Socket[] sockets, BoundListener bound, EchoServerOptions options, UdpCounters counters, ILogger logger, TimeProvider time)
    {
        _sockets = sockets;
        Bound = bound;
        _options = options.Udp;
        _dump = options.Dump;
        _counters = counters;
        _logger = logger;
        _time = time;
        _ownPort = bound.Port;
        _sources = new UdpSourceTable(_options.SourceTableCapacity, _options.RateLimit, _options.EffectiveBurst, time);
        foreach (var port in _options.DenySourcePorts)
        {
            _deniedPorts[port >> 6] |= 1UL << (port & 63);
        }
        _eventBudget = _options.MaxSourceEventsPerInterval;
    }

    public BoundListener Bound { get; }

    /// <summary>The listener's source table, for tests.</summary>
    internal UdpSourceTable Sources => _sources;

    /// <summary>Binds <paramref name="address"/> and prepares one socket object per receive loop.</summary>
    public static UdpEchoListener Bind(IPEndPoint address, bool dualStack, EchoServerOptions options, UdpCounters counters, ILogger logger, TimeProvider time)
    {
        var udp = options.Udp;
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var sockets = new List<Socket> { socket };
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dualStack;
            }
            // No SO_REUSEADDR here, unlike TCP: UDP has no TIME_WAIT to skip, and on Linux the option would let a
            // second server bind the same port silently instead of failing with "address already in use".
            SetBufferSizes(socket, udp.SocketBufferSize);
            socket.Bind(address);
            var loops = SocketHandles.CanDuplicate ? udp.ReceiveLoops : 1;
            for (var i = 1; i < loops; i++)
            {
                sockets.Add(SocketHandles.Duplicate(socket));
            }
        }
        catch (SocketException ex)
        {
            foreach (var s in sockets)
            {
                s.Dispose();
            }
            throw new ListenerBindException(EndpointResolver.FormatUri("udp", address), ex.SocketErrorCode, ex);
        }
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var bound = new BoundListener(ListenProtocol.Udp, local, EndpointResolver.FormatUri("udp", local));
        EchoKitLog.UdpSocketReady(logger, bound.Uri, sockets.Count,
            (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)!,
            (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.SendBuffer)!,
            udp.SocketBufferSize);
        return new UdpEchoListener(sockets.ToArray(), bound, options, counters, logger, time);
    }

    public async Task RunAsync()
    {
        var token = _stopping.Token;
        var loops = new Task[_sockets.Length];
        Task<(UdpCounterSnapshot Counts, long Timestamp)> reporter;
        // The loops start on the thread pool, so the caller (the server's start) returns at once even when a queue
        // full of datagrams keeps a loop busy, and without the caller's execution context: a context carrying
        // async-locals would cost an allocation on every asynchronous completion.
        using (ExecutionContext.SuppressFlow())
        {
            for (var i = 0; i < _sockets.Length; i++)
            {
                var socket = _sockets[i];
                var cell = _counters.CreateCell();
                _cells.Add(cell);
                loops[i] = Task.Run(() => ReceiveLoopAsync(socket, cell, token), CancellationToken.None);
            }
            reporter = Task.Run(() => ReportLoopAsync(token), CancellationToken.None);
        }
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        finally
        {
            StopAccepting();
            var lastReport = await reporter.ConfigureAwait(false);
            DisposeSockets();
            Report(lastReport.Counts, _time.GetTimestamp() - lastReport.Timestamp, final: true);
        }
    }

    public void StopAccepting()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: already stopped.
        }
    }

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        DisposeSockets();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task ReceiveLoopAsync(Socket socket, UdpCounterCell cell, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var address = new SocketAddress(socket.AddressFamily);
        var addressSize = address.Size;
        var synchronousRun = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                int received;
                try
                {
                    address.Size = addressSize; // the kernel may have shortened it for the last source
                    var receive = socket.ReceiveFromAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, address, token);
                    if (receive.IsCompleted)
                    {
                        if (++synchronousRun >= MaxSynchronousRun)
                        {
                            // Datagrams keep coming: let other work (e.g. other sockets' completions on this
                            // thread) run before we go on.
                            synchronousRun = 0;
                            var pending = receive.Result;
                            await Task.Yield();
                            received = pending;
                        }
                        else
                        {
                            received = receive.Result;
                        }
                    }
                    else
                    {
                        synchronousRun = 0;
                        received = await receive.ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException ex)
                {
                    cell.Values.ReceiveErrors++;
                    await OnReceiveErrorAsync(ex.SocketErrorCode, token).ConfigureAwait(false);
                    continue;
                }

                cell.Values.Received++;
                cell.Values.BytesReceived += received;
                if (!Admit(address, received, cell))
                {
                    continue;
                }
                if (_dump != DumpMode.None)
                {
                    Dump(address, buffer.AsSpan(0, received));
                }
                // Counted before sending, so whoever holds the echo finds it counted; a failed send takes it back.
                cell.Values.Answered++;
                cell.Values.BytesSent += received;
                try
                {
                    await socket.SendToAsync(buffer.AsMemory(0, received), SocketFlags.None, address, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    cell.Values.Answered--;
                    cell.Values.BytesSent -= received;
                    break;
                }
                catch (SocketException ex)
                {
                    // No route back, a firewall's EPERM, a full buffer...: UDP may lose a datagram; count it and go on.
                    cell.Values.Answered--;
                    cell.Values.BytesSent -= received;
                    cell.Values.SendErrors++;
                    if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Debug))
                    {
                        EchoKitLog.UdpSendError(_logger, FormatSource(address), Bound.Uri, ex.SocketErrorCode.ToString());
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // Nothing above should get here; if something does, this loop ends and the others go on.
            EchoKitLog.UdpLoopFault(_logger, Bound.Uri, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The rules and the rate limit: true to answer the datagram now in the loop's buffer.</summary>
    private bool Admit(SocketAddress address, int size, UdpCounterCell cell)
    {
        var port = UdpSourceKey.PortOf(address);
        if ((_deniedPorts[port >> 6] & (1UL << (port & 63))) != 0 || (port == _ownPort && _options.DenyOwnPort))
        {
            cell.Values.DroppedByRule++;
            if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Information))
            {
                var reason = port == _ownPort && !_options.DenySourcePorts.Contains(port)
                    ? $"source port {port} is this listener's own port (an echo server looping with us?)"
                    : $"source port {port} is denied (a UDP service port: answering could start a loop or a reflection)";
                EchoKitLog.UdpDeniedSource(_logger, FormatSource(address), Bound.Uri, reason);
            }
            return false;
        }
        var source = UdpSourceKey.From(address);
        var verdict = _sources.Check(source, _options.ExemptLoopbackFromRateLimit && source.IsLoopback);
        switch (verdict)
        {
            case UdpSourceVerdict.Allowed:
                return true;
            case UdpSourceVerdict.AllowedNewSource:
                cell.Values.NewSources++;
                if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Information))
                {
                    EchoKitLog.UdpFirstDatagram(_logger, FormatSource(address), size, Bound.Uri);
                }
                return true;
            case UdpSourceVerdict.LimitedFirst:
                cell.Values.DroppedByRate++;
                if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Warning))
                {
                    EchoKitLog.UdpRateLimited(_logger, FormatSource(address), _options.RateLimit, Bound.Uri);
                }
                return false;
            default:
                cell.Values.DroppedByRate++;
                return false;
        }
    }

    private async Task OnReceiveErrorAsync(SocketError error, CancellationToken token)
    {
        if (SocketErrors.IsConnectionResetError(error) || error is SocketError.ConnectionRefused or SocketError.MessageSize)
        {
            // An ICMP error for an earlier echo reported on the socket (Windows does; Linux with IP_RECVERR):
            // about one peer, not about us.
            if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Debug))
            {
                EchoKitLog.UdpReceiveError(_logger, Bound.Uri, error.ToString());
            }
            return;
        }
        // Out of memory for buffers or similar: say so (rationed), pause this loop briefly, carry on.
        if (TakeEventBudget())
        {
            EchoKitLog.UdpReceiveFault(_logger, Bound.Uri, error.ToString(), (int)ReceiveFaultDelay.TotalMilliseconds);
        }
        try
        {
            await Task.Delay(ReceiveFaultDelay, _time, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop's condition ends it.
        }
    }

    private bool TakeEventBudget() =>
        Volatile.Read(ref _eventBudget) > 0 && Interlocked.Decrement(ref _eventBudget) >= 0;

    private async Task<(UdpCounterSnapshot Counts, long Timestamp)> ReportLoopAsync(CancellationToken token)
    {
        var last = (Counts: default(UdpCounterSnapshot), Timestamp: _time.GetTimestamp());
        while (true)
        {
            try
            {
                await Task.Delay(_options.StatsInterval, _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return last;
            }
            var now = _time.GetTimestamp();
            last = (Report(last.Counts, now - last.Timestamp, final: false), now);
            Volatile.Write(ref _eventBudget, _options.MaxSourceEventsPerInterval);
        }
    }

    /// <summary>Logs the counts since <paramref name="since"/> if anything happened (or at the end), and returns the totals.</summary>
    private UdpCounterSnapshot Report(UdpCounterSnapshot since, long elapsedTicks, bool final)
    {
        var total = UdpCounters.Sum(_cells);
        var delta = total.Since(since);
        if (delta.DatagramsReceived > 0 || (final && total.DatagramsReceived > 0))
        {
            var seconds = (long)Math.Round((double)elapsedTicks / _time.TimestampFrequency);
            EchoKitLog.UdpStats(_logger, Bound.Uri, delta.DatagramsReceived, delta.DatagramsAnswered, delta.DroppedByRule,
                delta.DroppedByRate, delta.SendErrors, delta.BytesReceived, delta.BytesSent, delta.NewSources, seconds);
        }
        return total;
    }

    private void Dump(SocketAddress address, ReadOnlySpan<byte> data)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        // A datagram is a message of its own: it is decoded alone, never joined to the next one.
        var text = _dump == DumpMode.Hex ? HexDump.Format(data) : Encoding.UTF8.GetString(data);
        EchoKitLog.UdpData(_logger, FormatSource(address), data.Length, Bound.Uri, text);
    }

    /// <summary>The source as text, for log lines only (it allocates).</summary>
    private static string FormatSource(SocketAddress address)
    {
        var any = address.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        return EndpointResolver.FormatAddress((IPEndPoint)any.Create(address));
    }

    private static void SetBufferSizes(Socket socket, int size)
    {
        if (size == 0)
        {
            return;
        }
        socket.ReceiveBufferSize = size;
        socket.SendBufferSize = size;
        if (OperatingSystem.IsLinux())
        {
            // Linux caps the sizes at net.core.rmem_max/wmem_max; a process with CAP_NET_ADMIN may force them.
            // Linux reports twice the size asked (bookkeeping overhead included), hence the / 2.
            const int SolSocket = 1, SoSndBufForce = 32, SoRcvBufForce = 33;
            TryForce(socket, SolSocket, SoRcvBufForce, size, socket.ReceiveBufferSize / 2);
            TryForce(socket, SolSocket, SoSndBufForce, size, socket.SendBufferSize / 2);
        }
    }

    private static void TryForce(Socket socket, int level, int option, int size, int current)
    {
        if (current >= size)
        {
            return;
        }
        try
        {
            socket.SetRawSocketOption(level, option, BitConverter.GetBytes(size));
        }
        catch (SocketException)
        {
            // EPERM without CAP_NET_ADMIN: keep what the kernel allowed (logged as UdpSocketReady at Debug).
        }
    }

    private void DisposeSockets()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }
}
