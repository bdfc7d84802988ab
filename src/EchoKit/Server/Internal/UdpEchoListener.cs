using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Internal.Linux;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// A bound UDP port and its receive loops (RFC 862: one answering datagram per datagram, byte for byte, to the
/// exact source address and port). Each loop is a dedicated thread blocked in the kernel on a socket of its own, which
/// no other loop reads: with several loops the sockets share the port through SO_REUSEPORT, and the kernel hashes
/// each source (address and port) to one socket. So the datagrams of one source are read, and their echoes sent, by
/// one thread in the order they arrived: EchoKit never reorders a source's replies (several threads reading one
/// socket did, about 1 in 85 with 8 in flight). On 64-bit Linux a loop takes every waiting datagram in one
/// <c>recvmmsg</c> and sends their echoes in one <c>sendmmsg</c> (<see cref="UdpBatchIo"/>); elsewhere it makes the
/// SocketAddress-based blocking <c>ReceiveFrom</c>/<c>SendTo</c> calls, one pair per datagram, on one socket.
/// Neither allocates per datagram. (The asynchronous <c>ReceiveFromAsync</c>/<c>SendToAsync</c> overloads are
/// allocation-free too, but every wait and every send's completion went through the epoll thread: under half the
/// datagrams per second of the C reference in bench/, against about 0.8 for blocking calls and about 1.0 for
/// batches. A UDP listener needs only a few loops, so a few threads are cheap.) A socket bound to a wildcard
/// address answers each datagram from the address it was sent to, not from the one the kernel's route would pick
/// (<see cref="ControlMessages"/>): on Linux its loops always take the batched road, in batches of one when
/// <see cref="UdpOptions.ReceiveBatch"/> is 1, since only that road carries the packet information; elsewhere the
/// route still picks. Before answering, a datagram passes the rules (source port not denied, not our own port) and
/// its source's rate limit (<see cref="UdpSourceTable"/>).
/// <see cref="StopAccepting"/> shuts each socket's receiving side, which wakes its loop; a socket closes when its
/// loop has ended (so the kernel sends that loop's sources to the others should one ever fail).
/// </summary>
internal sealed class UdpEchoListener : IEchoListener
{
    /// <summary>Buffer per loop: every UDP payload fits (65,527 B is the IPv6 maximum), so none is truncated.</summary>
    private const int BufferSize = 65_536;

    /// <summary>Stack of each receive thread: the loop is shallow; the default (8 MiB reserved) would be waste.</summary>
    private const int ThreadStackSize = 256 * 1024;

    /// <summary>A send blocked this long (full send buffer) gives up: the datagram counts as a send error.</summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ReceiveFaultDelay = TimeSpan.FromMilliseconds(50);

    private const int SolSocket = 1;      // SOL_SOCKET on Linux
    private const int SoReusePort = 15;   // SO_REUSEPORT on Linux

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
    private readonly AccessControl.IpAccessList? _access;
    private readonly bool _answerFromDestination;
    private int _eventBudget;
    private int _disposed;
    private volatile bool _running;

    private UdpEchoListener(Socket[] sockets, BoundListener bound, bool answerFromDestination, EchoServerOptions options, UdpCounters counters, ILogger logger, TimeProvider time)
    {
        _sockets = sockets;
        _answerFromDestination = answerFromDestination;
        Bound = bound;
        _options = options.Udp;
        _dump = options.Dump;
        _counters = counters;
        _logger = logger;
        _time = time;
        _ownPort = bound.Port;
        _access = options.AccessList is { IsEmpty: false } list ? list : null;
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

    /// <summary>
    /// Binds <paramref name="address"/>: one socket per receive loop, each read by its loop alone. With several loops
    /// (Linux) the sockets share the port through SO_REUSEPORT, and the kernel hashes each source address and port
    /// to one of them, so every datagram from a source is read, and answered, by the same loop in arrival order.
    /// </summary>
    public static UdpEchoListener Bind(IPEndPoint address, bool dualStack, EchoServerOptions options, UdpCounters counters, ILogger logger, TimeProvider time)
    {
        var udp = options.Udp;
        // SO_REUSEPORT spreads by source only on Linux (BSDs give a unicast datagram to the last socket bound).
        var loops = OperatingSystem.IsLinux() ? udp.ReceiveLoops : 1;
        // A wildcard socket learns each datagram's destination to answer from it; one bound to an address needs none.
        var answerFromDestination = UdpBatchIo.IsSupported && ControlMessages.IsWildcard(address.Address);
        var sockets = new List<Socket>(loops);
        try
        {
            if (loops > 1)
            {
                // Claim the port alone first: a bind without SO_REUSEPORT fails if anything holds the port (another
                // echokit with the same user would otherwise join the group silently), and for port 0 it picks a
                // port nobody shares. The group then binds that exact port.
                using var probe = NewSocket(address, dualStack, udp, reusePort: false);
                probe.Bind(address);
                address = new IPEndPoint(address.Address, ((IPEndPoint)probe.LocalEndPoint!).Port);
            }
            for (var i = 0; i < loops; i++)
            {
                var socket = NewSocket(address, dualStack, udp, reusePort: loops > 1);
                sockets.Add(socket);
                if (answerFromDestination)
                {
                    ControlMessages.EnablePacketInfo(socket); // before bind: no datagram arrives without it
                }
                socket.Bind(address);
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
        var first = sockets[0];
        var local = (IPEndPoint)first.LocalEndPoint!;
        var bound = new BoundListener(ListenProtocol.Udp, local, EndpointResolver.FormatUri("udp", local));
        // Linux reports twice the size granted (its bookkeeping overhead included): halve it to compare with the ask.
        var reported = OperatingSystem.IsLinux() ? 2 : 1;
        UdpLog.UdpSocketReady(logger, bound.Uri, sockets.Count,
            first.ReceiveBufferSize / reported, first.SendBufferSize / reported, udp.SocketBufferSize);
        return new UdpEchoListener(sockets.ToArray(), bound, answerFromDestination, options, counters, logger, time);
    }

    private static Socket NewSocket(IPEndPoint address, bool dualStack, UdpOptions udp, bool reusePort)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dualStack;
            }
            // No SO_REUSEADDR here, unlike TCP: UDP has no TIME_WAIT to skip, and on Linux the option would let a
            // second server bind the same port silently instead of failing with "address already in use".
            if (reusePort)
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }
            SetBufferSizes(socket, udp.SocketBufferSize);
            socket.SendTimeout = (int)SendTimeout.TotalMilliseconds;
            if (!OperatingSystem.IsLinux())
            {
                // Where shutting the receiving side may not wake a blocked receive, wake up once a second to look.
                socket.ReceiveTimeout = 1000;
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task RunAsync()
    {
        _running = true;
        var token = _stopping.Token;
        var loops = new Task[_sockets.Length];
        for (var i = 0; i < _sockets.Length; i++)
        {
            var socket = _sockets[i];
            var cell = _counters.CreateCell();
            _cells.Add(cell);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                if (UdpBatchIo.IsSupported && (_options.ReceiveBatch > 1 || _answerFromDestination))
                {
                    BatchReceiveLoop(socket, cell, token);
                }
                else
                {
                    ReceiveLoop(socket, cell, token);
                }
                // Only this loop used the socket. Closed, it leaves the SO_REUSEPORT group, so were the loop to end by
                // a fault, its sources would move to the other loops instead of going unanswered.
                socket.Dispose();
                done.SetResult();
            }, ThreadStackSize)
            {
                IsBackground = true,
                Name = $"echokit udp {Bound.Port}#{i}",
            };
            // The thread must not carry the caller's execution context (async-locals would flow into every log call).
            using (ExecutionContext.SuppressFlow())
            {
                thread.Start();
            }
            loops[i] = done.Task;
        }
        var reporter = ReportLoopAsync(token);
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
            _stopping.Dispose(); // cancelled already: later StopAccepting calls return before touching it
        }
    }

    public void StopAccepting()
    {
        try
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: already stopped.
            return;
        }
        foreach (var socket in _sockets)
        {
            try
            {
                // Wakes the loop blocked in ReceiveFrom (it returns at once from now on). On an unconnected UDP
                // socket Linux reports ENOTCONN but still shuts the receiving side and wakes the waiter.
                socket.Shutdown(SocketShutdown.Receive);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.NotConnected)
            {
                // Expected for UDP (see above); the receive timeout set at bind is the fallback where no wake-up came.
            }
            catch (ObjectDisposedException)
            {
                // Closed already: nothing is blocked on it.
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        if (!_running)
        {
            // Never started (another listener failed to bind). A running listener closes its own sockets once its
            // loops have ended: they use the raw descriptors, which must not be closed (and reused) under them.
            DisposeSockets();
            _stopping.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private void ReceiveLoop(Socket socket, UdpCounterCell cell, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var address = new SocketAddress(socket.AddressFamily);
        var addressSize = address.Size;
        try
        {
            while (!token.IsCancellationRequested)
            {
                int received;
                try
                {
                    address.Size = addressSize; // the kernel may have shortened it for the last source
                    received = socket.ReceiveFrom(buffer.AsSpan(0, BufferSize), SocketFlags.None, address);
                }
                catch (Exception ex) when (token.IsCancellationRequested && ex is SocketException or ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    continue; // the receive timeout: only there so a stop is noticed where no wake-up comes
                }
                catch (SocketException ex)
                {
                    cell.Values.ReceiveErrors++;
                    OnReceiveError(ex.SocketErrorCode, token);
                    continue;
                }
                if (token.IsCancellationRequested)
                {
                    break; // woken by the shutdown: no datagram
                }

                cell.Values.Received++;
                cell.Values.BytesReceived += received;
                if (_dump != DumpMode.None)
                {
                    Dump(address, buffer.AsSpan(0, received)); // every datagram, answered or not
                }
                if (!Admit(address, received, cell))
                {
                    continue;
                }
                // Counted before sending, so whoever holds the echo finds it counted; a failed send takes it back.
                cell.Values.Answered++;
                cell.Values.BytesSent += received;
                try
                {
                    socket.SendTo(buffer.AsSpan(0, received), SocketFlags.None, address);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // No route back, a firewall's EPERM, a send buffer full for a whole second, or the socket closing
                    // under a stop: UDP may lose a datagram; count it and go on (the loop condition ends a stop).
                    cell.Values.Answered--;
                    cell.Values.BytesSent -= received;
                    cell.Values.SendErrors++;
                    if (ex is SocketException se && !token.IsCancellationRequested && TakeEventBudget() && _logger.IsEnabled(LogLevel.Debug))
                    {
                        UdpLog.UdpSendError(_logger, FormatSource(address), Bound.Uri, se.SocketErrorCode.ToString());
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // Nothing above should get here; if something does, this loop ends and the others go on.
            UdpLog.UdpLoopFault(_logger, Bound.Uri, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The loop of <see cref="ReceiveLoop"/> a batch at a time: one <c>recvmmsg</c> takes every datagram waiting,
    /// each passes the same rules, and one <c>sendmmsg</c> sends all the echoes back (on a wildcard socket, each from
    /// the address its datagram was sent to).
    /// </summary>
    private void BatchReceiveLoop(Socket socket, UdpCounterCell cell, CancellationToken token)
    {
        var io = new UdpBatchIo(_options.ReceiveBatch, BufferSize, _answerFromDestination);
        var address = new SocketAddress(socket.AddressFamily);
        var onFailure = (int index, SocketError error) =>
        {
            // No route back, a firewall's EPERM, a send buffer full for a whole second: UDP may lose a datagram.
            var length = io.Length(index);
            cell.Values.Answered--;
            cell.Values.BytesSent -= length;
            cell.Values.SendErrors++;
            if (!token.IsCancellationRequested && TakeEventBudget() && _logger.IsEnabled(LogLevel.Debug))
            {
                io.CopyAddress(index, address);
                UdpLog.UdpSendError(_logger, FormatSource(address), Bound.Uri, error.ToString());
            }
        };
        try
        {
            while (!token.IsCancellationRequested)
            {
                int count;
                try
                {
                    count = io.Receive(socket);
                }
                catch (SocketException) when (token.IsCancellationRequested)
                {
                    break;
                }
                catch (SocketException ex)
                {
                    cell.Values.ReceiveErrors++;
                    OnReceiveError(ex.SocketErrorCode, token);
                    continue;
                }
                if (token.IsCancellationRequested)
                {
                    break; // woken by the shutdown
                }
                for (var i = 0; i < count; i++)
                {
                    var length = io.Length(i);
                    cell.Values.Received++;
                    cell.Values.BytesReceived += length;
                    io.CopyAddress(i, address);
                    if (_dump != DumpMode.None)
                    {
                        Dump(address, io.Data(i));
                    }
                    if (!Admit(address, length, cell))
                    {
                        continue;
                    }
                    // Counted before sending, so whoever holds the echo finds it counted; a failed send takes it back.
                    cell.Values.Answered++;
                    cell.Values.BytesSent += length;
                    io.Mark(i);
                }
                if (io.MarkedCount > 0)
                {
                    io.SendMarked(socket, onFailure);
                }
            }
        }
        catch (Exception ex)
        {
            // Nothing above should get here; if something does, this loop ends and the others go on.
            UdpLog.UdpLoopFault(_logger, Bound.Uri, ex);
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
                UdpLog.UdpDeniedSource(_logger, FormatSource(address), Bound.Uri, reason);
            }
            return false;
        }
        var source = UdpSourceKey.From(address);
        if (_access is not null && !_access.Allows(source.Bits))
        {
            cell.Values.DroppedByRule++;
            if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Information))
            {
                UdpLog.UdpDeniedSource(_logger, FormatSource(address), Bound.Uri, "source address denied by the access list");
            }
            return false;
        }
        var verdict = _sources.Check(source, _options.ExemptLoopbackFromRateLimit && source.IsLoopback);
        switch (verdict)
        {
            case UdpSourceVerdict.Allowed:
                return true;
            case UdpSourceVerdict.AllowedNewSource:
                cell.Values.NewSources++;
                if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Information))
                {
                    UdpLog.UdpFirstDatagram(_logger, FormatSource(address), size, Bound.Uri);
                }
                return true;
            case UdpSourceVerdict.LimitedFirst:
                cell.Values.DroppedByRate++;
                if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Warning))
                {
                    UdpLog.UdpRateLimited(_logger, FormatSource(address), _options.RateLimit, Bound.Uri);
                }
                return false;
            default:
                cell.Values.DroppedByRate++;
                return false;
        }
    }

    /// <summary>This listener's counters, summed over its receive loops (for metrics, read when collected).</summary>
    public UdpCounterSnapshot Snapshot() => UdpCounters.Sum(_cells);

    private void OnReceiveError(SocketError error, CancellationToken token)
    {
        if (SocketErrors.IsConnectionResetError(error) || error is SocketError.ConnectionRefused or SocketError.MessageSize)
        {
            // An ICMP error for an earlier echo reported on the socket (Windows does; Linux with IP_RECVERR):
            // about one peer, not about us.
            if (TakeEventBudget() && _logger.IsEnabled(LogLevel.Debug))
            {
                UdpLog.UdpReceiveError(_logger, Bound.Uri, error.ToString());
            }
            return;
        }
        // Out of memory for buffers or similar: say so (rationed), pause this loop briefly (a stop ends the pause).
        if (TakeEventBudget())
        {
            UdpLog.UdpReceiveFault(_logger, Bound.Uri, error.ToString(), (int)ReceiveFaultDelay.TotalMilliseconds);
        }
        token.WaitHandle.WaitOne(ReceiveFaultDelay);
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
            UdpLog.UdpStats(_logger, Bound.Uri, delta.DatagramsReceived, delta.DatagramsAnswered, delta.DroppedByRule,
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
        var text = _dump == DumpMode.Hex ? HexDump.Format(data) : PeerText.Dump(data);
        UdpLog.UdpData(_logger, FormatSource(address), data.Length, Bound.Uri, text);
    }

    /// <summary>The source as text, for log lines only (it allocates).</summary>
    private static string FormatSource(SocketAddress address)
    {
        var any = address.Family == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        return EndpointResolver.FormatAddress((IPEndPoint)any.Create(address));
    }

    internal static void SetBufferSizes(Socket socket, int size)
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
