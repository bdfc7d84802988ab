using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Internal.Linux;
using EchoKit.Server.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Reflect;

/// <summary>
/// A UDP reflect listener: one answer per request datagram, never larger than the request (no amplification), with
/// the UDP echo's deny rules (source ports, access list) and per-source rate limit. Receives on one thread with
/// recvmsg(2) to read each datagram's TTL and TOS. On a wildcard address it also reads the address each request was
/// sent to, which it reports as <c>local</c> and answers from (with sendmsg(2) and IP_PKTINFO / IPV6_PKTINFO:
/// <see cref="ControlMessages"/>), as the UDP echo does.
/// </summary>
internal sealed class ReflectUdpListener : IEchoListener
{
    private static readonly TimeSpan ReceivePoll = TimeSpan.FromMilliseconds(200);

    private readonly Socket _socket;
    private readonly ReflectOptions _options;
    private readonly UdpOptions _udp;
    private readonly EchoServerOptions _server;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly UdpSourceTable _sources;
    private readonly ListenerMetrics _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _holds = new();
    private readonly int _ownPort;
    private long _nextHold;
    private int _pendingHolds;
    private volatile bool _stopping;

    private ReflectUdpListener(Socket socket, EchoServerOptions server, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        _socket = socket;
        _server = server;
        _options = server.Reflect;
        _udp = server.Udp;
        _logger = logger;
        _time = time;
        _sources = new UdpSourceTable(_udp.SourceTableCapacity, _udp.RateLimit, _udp.EffectiveBurst, time);
        _ownPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        Bound = new BoundListener(ListenProtocol.Udp, socket.LocalEndPoint!, EndpointResolver.FormatUri("reflect+udp", socket.LocalEndPoint!));
        _metrics = instruments.ForListener(Bound.Uri);
    }

    public BoundListener Bound { get; }

    public static ReflectUdpListener Bind(IPEndPoint address, bool dualStack, EchoServerOptions server, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        if (!LinuxRecvMsg.IsSupported)
        {
            throw new PlatformNotSupportedException("the UDP reflect service needs Linux (x64 or arm64)");
        }
        // Before bind, as the UDP echo does: no request arrives without its TTL, TOS and (on a wildcard) destination.
        var socket = ListenSockets.Bind(address, SocketType.Dgram, ProtocolType.Udp, dualStack, "reflect+udp", beforeBind: unbound =>
        {
            LinuxRecvMsg.EnableAncillaryData(unbound);
            if (ControlMessages.IsWildcard(address.Address))
            {
                ControlMessages.EnablePacketInfo(unbound);
            }
        });
        try
        {
            // The UDP echo's buffer sizes (--udp-buffer): at the system default a burst of requests was dropped in the
            // kernel, 166 of 1,030 answered.
            UdpEchoListener.SetBufferSizes(socket, server.Udp.SocketBufferSize);
            // Blocking receives on a dedicated thread, woken this often to notice a stop.
            socket.ReceiveTimeout = (int)ReceivePoll.TotalMilliseconds;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenerBindException(EndpointResolver.FormatUri("reflect+udp", address), ex.SocketErrorCode, ex);
        }
        return new ReflectUdpListener(socket, server, logger, time, instruments);
    }

    public async Task RunAsync()
    {
        await Task.Factory.StartNew(ReceiveLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        await Task.WhenAll(_holds.Values).ConfigureAwait(false);
    }

    public void StopAccepting()
    {
        _stopping = true;
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        await Task.WhenAll(_holds.Values).ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }

    private void ReceiveLoop()
    {
        var receiver = new LinuxRecvMsg(ReflectOptions.MaxRequestBytes);
        while (!_stopping)
        {
            IPEndPoint? source;
            try
            {
                if (!receiver.Receive(_socket, out source) || source is null)
                {
                    continue;
                }
            }
            catch (SocketException ex) when (_stopping || SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
            {
                continue; // ICMP errors of earlier answers surface here; they concern nobody now
            }
            catch (Exception ex)
            {
                ReflectLog.ReceiveFault(_logger, Bound.Uri, ex);
                return;
            }
            _metrics.AddReceived(receiver.Length);
            if (Refusal(source) is { } drop)
            {
                _metrics.DatagramDropped(drop);
                continue;
            }
            try
            {
                Handle(receiver, source);
            }
            catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode) || ex.SocketErrorCode is SocketError.MessageSize or SocketError.NoBufferSpaceAvailable)
            {
                ReflectLog.ConnectionLost(_logger, ex.SocketErrorCode);
            }
            catch (Exception ex) when (!_stopping)
            {
                // Whatever one datagram does, the listener goes on: a request that reached a bug in its handling is
                // logged and not answered, and the next source is served (it used to end the receive loop for good).
                ReflectLog.DatagramFault(_logger, Bound.Uri, ex);
            }
        }
    }

    /// <summary>Why a request from <paramref name="source"/> gets no answer at all (an <c>EchoServerMetrics.Drop*</c> reason), or null.</summary>
    private string? Refusal(IPEndPoint source)
    {
        // The UDP echo's rules: denied source ports (reflection loops), the access list, the per-source rate.
        if (_udp.DenySourcePorts.Contains(source.Port) || (_udp.DenyOwnPort && source.Port == _ownPort))
        {
            return EchoServerMetrics.DropDenied;
        }
        if (_server.AccessList is { IsEmpty: false } access && !access.Allows(source.Address))
        {
            return EchoServerMetrics.DropDenied;
        }
        var key = UdpSourceKey.From(source.Address);
        var verdict = _sources.Check(key, _udp.ExemptLoopbackFromRateLimit && key.IsLoopback);
        return verdict is UdpSourceVerdict.Allowed or UdpSourceVerdict.AllowedNewSource ? null : EchoServerMetrics.DropRateLimited;
    }

    private void Handle(LinuxRecvMsg receiver, IPEndPoint source)
    {
        var received = receiver.Length;
        var data = receiver.Data;
        var newline = data.IndexOf((byte)'\n');
        var line = newline >= 0 ? data[..newline] : data;
        // On a wildcard socket, the address the request was sent to: the report's local address and the answer's source.
        var local = receiver.Destination;
        var localAddress = local.ToAddress();
        var truncated = newline < 0 && received > data.Length;
        if (!ReflectRequest.TryParse(line, out var request, out var error, truncated))
        {
            Send(new ReflectReport { Id = ReflectRequest.TryReadId(line, truncated), Error = error }, 0, received, source, local);
            return;
        }
        var report = new ReflectReport
        {
            Id = request.Id,
            Instance = _options.InstanceId,
            Transport = "udp",
            Client = EndpointResolver.FormatAddress(source),
            Local = localAddress is null
                ? EndpointResolver.FormatEndPoint(_socket.LocalEndPoint)
                : EndpointResolver.FormatAddress(new IPEndPoint(localAddress, _ownPort)),
            DatagramSize = received,
            Ttl = receiver.Ttl,
            Tos = receiver.Tos,
        };
        var size = request.Operation == ReflectOperation.Echo ? request.Size : 0;
        if (request.Operation != ReflectOperation.Hold)
        {
            Send(report, size, received, source, local);
            return;
        }
        if (request.After > _options.MaxHold)
        {
            Send(new ReflectReport { Id = request.Id, Error = $"after_ms over this server's limit of {(long)_options.MaxHold.TotalMilliseconds}" }, 0, received, source, local);
            return;
        }
        if (Interlocked.Increment(ref _pendingHolds) > _options.MaxPendingHolds)
        {
            Interlocked.Decrement(ref _pendingHolds);
            Send(new ReflectReport { Id = request.Id, Error = "too many pending holds; try later" }, 0, received, source, local);
            return;
        }
        var id = Interlocked.Increment(ref _nextHold);
        // The hold starts only once it is registered, so its own removal can never come first.
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holds[id] = HoldAsync(id, report, request.After, received, source, local, registered.Task);
        registered.SetResult();
    }

    private async Task HoldAsync(long id, ReflectReport report, TimeSpan after, int received, IPEndPoint source, PacketDestination local, Task registered)
    {
        try
        {
            await registered.ConfigureAwait(false);
            var start = _time.GetTimestamp();
            await Task.Delay(after, _time, _stop.Token).ConfigureAwait(false);
            Send(report with { HeldMilliseconds = (long)_time.GetElapsedTime(start).TotalMilliseconds }, 0, received, source, local);
        }
        catch (OperationCanceledException)
        {
            _metrics.ReflectRequest(EchoServerMetrics.ReflectUnanswered); // stopping: a held answer is dropped, as a datagram may be
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode) || ex.SocketErrorCode is SocketError.MessageSize or SocketError.NoBufferSpaceAvailable)
        {
            ReflectLog.ConnectionLost(_logger, ex.SocketErrorCode);
        }
        catch (ObjectDisposedException) when (_stopping)
        {
            // The socket closed under a late answer.
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHolds);
            _holds.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Sends an answer of at most <paramref name="limit"/> bytes (the request's size), from <paramref name="local"/>
    /// when that is an address of ours (a wildcard socket's request), else from the socket's address or the route's
    /// choice; drops it when even an error would not fit.
    /// </summary>
    private void Send(ReflectReport report, int size, int limit, IPEndPoint destination, in PacketDestination local)
    {
        var json = report.ToJson();
        var result = report.Error is null ? EchoServerMetrics.ReflectAnswered : EchoServerMetrics.ReflectRefused;
        if (json.Length + 1 > limit)
        {
            result = EchoServerMetrics.ReflectRefused;
            json = new ReflectReport { Id = report.Id, Error = $"pad the request to at least {json.Length + 1} bytes" }.ToJson();
            if (json.Length + 1 > limit)
            {
                json = new ReflectReport { Error = "pad the request" }.ToJson();
                if (json.Length + 1 > limit)
                {
                    _metrics.ReflectRequest(EchoServerMetrics.ReflectUnanswered);
                    return;
                }
            }
            size = 0;
        }
        var answer = ReflectPadding.Pad(json, Math.Min(size, limit));
        try
        {
            if (local.IsLocalUnicast)
            {
                SendFrom(answer, destination, local);
            }
            else
            {
                _socket.SendTo(answer, SocketFlags.None, destination);
            }
        }
        catch (SocketException)
        {
            _metrics.DatagramDropped(EchoServerMetrics.DropSendFailed);
            _metrics.ReflectRequest(EchoServerMetrics.ReflectUnanswered);
            throw;
        }
        _metrics.ReflectRequest(result);
        _metrics.DatagramAnswered();
        _metrics.AddSent(answer.Length);
    }

    /// <summary>
    /// sendmsg(2) with the IP_PKTINFO / IPV6_PKTINFO message that makes the answer leave from <paramref name="local"/>.
    /// Called from the receive thread and from holds' timers alike: everything it writes is on the caller's stack, and
    /// the descriptor is held open for the call (a stop closing the socket meanwhile gives ObjectDisposedException, as
    /// SendTo does).
    /// </summary>
    private void SendFrom(ReadOnlySpan<byte> answer, IPEndPoint destination, in PacketDestination local)
    {
        Span<byte> name = stackalloc byte[SocketAddresses.MaxLength];
        var nameLength = SocketAddresses.Write(destination, name);
        Span<byte> control = stackalloc byte[ControlMessages.SourceSpace];
        var controlLength = ControlMessages.WriteSource(control, local);
        var handle = _socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var sent = Libc.SendMessage((int)handle.DangerousGetHandle(), answer, name[..nameLength], control[..controlLength]);
            if (sent < 0)
            {
                throw new SocketException((int)Errno.ToSocketError((int)-sent));
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
