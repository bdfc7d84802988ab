using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Server.Internal;
using EchoKit.Server.ProxyProtocol;

namespace EchoKit.Server.Reflect;

/// <summary>One TCP reflect connection: an optional PROXY header, then request lines, one answer line each.</summary>
internal sealed class ReflectTcpConnection(Socket socket, ReflectOptions options, ProxyProtocolOptions proxyOptions, TimeProvider time, ListenerMetrics metrics)
{
    private readonly byte[] _buffer = new byte[ReflectOptions.MaxRequestBytes + ProxyHeaderParser.DefaultMaxV2Length];
    private int _filled;
    private readonly SavedSyn? _syn = SavedSyn.TryRead(socket);
    private ProxyHeader? _proxy;
    private double _tokens = options.RequestsPerSecond;
    private long _lastRefill = time.GetTimestamp();

    /// <summary>
    /// How the connection ended, once <see cref="RunAsync"/> has returned: the client closed, stayed idle longer than
    /// a hold may last, or was closed after an error answer (a request too long, too many requests, an invalid PROXY
    /// header), which counts as <see cref="ConnectionCloseReason.Error"/>.
    /// </summary>
    public ConnectionCloseReason EndReason { get; private set; } = ConnectionCloseReason.ClosedByPeer;

    public async Task RunAsync(CancellationToken stopping)
    {
        var first = true;
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', 0, _filled);
            if (first && _filled > 0 && ReflectTcpListener.LooksLikeProxyHeader(_buffer.AsSpan(0, _filled)))
            {
                var parsed = ProxyHeaderParser.Parse(_buffer.AsSpan(0, _filled), proxyOptions.MaxHeaderLength);
                if (parsed.Status == ProxyParseStatus.Invalid)
                {
                    metrics.ConnectionRejected(EchoServerMetrics.RejectProxyHeader);
                    await RefuseAndCloseAsync(new ReflectReport { Error = $"invalid PROXY header: {parsed.Error}" }, stopping).ConfigureAwait(false);
                    return;
                }
                if (parsed.Status == ProxyParseStatus.Complete)
                {
                    _proxy = parsed.Header;
                    Consume(parsed.Length);
                    first = false;
                    continue;
                }
                newline = -1; // need more of the header
            }
            if (newline < 0)
            {
                if (_filled == _buffer.Length || (!first && _filled > ReflectOptions.MaxRequestBytes))
                {
                    await RefuseAndCloseAsync(new ReflectReport { Error = $"request longer than {ReflectOptions.MaxRequestBytes} bytes" }, stopping).ConfigureAwait(false);
                    return;
                }
                if (!await FillAsync(stopping).ConfigureAwait(false))
                {
                    return; // the client closed, or stayed silent too long
                }
                continue;
            }
            first = false;
            var line = _buffer.AsSpan(0, newline);
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }
            var ok = ReflectRequest.TryParse(line, out var request, out var error);
            var refusedId = ok ? null : ReflectRequest.TryReadId(line);
            Consume(newline + 1);
            if (!TakeToken())
            {
                await RefuseAndCloseAsync(new ReflectReport { Id = request.Id, Error = "too many requests; closing" }, stopping).ConfigureAwait(false);
                return;
            }
            if (!ok)
            {
                await AnswerAsync(new ReflectReport { Id = refusedId, Error = error }, 0, stopping).ConfigureAwait(false);
                continue;
            }
            if (request.Operation == ReflectOperation.Echo && request.Size > options.MaxEchoBytes)
            {
                await AnswerAsync(new ReflectReport { Id = request.Id, Error = $"size over this server's limit of {options.MaxEchoBytes}" }, 0, stopping).ConfigureAwait(false);
                continue;
            }
            long? held = null;
            if (request.Operation == ReflectOperation.Hold)
            {
                if (request.After > options.MaxHold)
                {
                    await AnswerAsync(new ReflectReport { Id = request.Id, Error = $"after_ms over this server's limit of {(long)options.MaxHold.TotalMilliseconds}" }, 0, stopping).ConfigureAwait(false);
                    continue;
                }
                var start = time.GetTimestamp();
                try
                {
                    await Task.Delay(request.After, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    metrics.ReflectRequest(EchoServerMetrics.ReflectUnanswered); // the server stopped first
                    throw;
                }
                held = (long)time.GetElapsedTime(start).TotalMilliseconds;
            }
            var size = request.Operation == ReflectOperation.Echo ? request.Size : 0;
            await AnswerAsync(Observe(request.Id, held), size, stopping).ConfigureAwait(false);
        }
    }

    private ReflectReport Observe(string? id, long? held) => new()
    {
        Id = id,
        Instance = options.InstanceId,
        Transport = "tcp",
        Client = EndpointResolver.FormatEndPoint(socket.RemoteEndPoint),
        Local = EndpointResolver.FormatEndPoint(socket.LocalEndPoint),
        Proxy = _proxy,
        Tcp = TcpPathInfo.TryRead(socket),
        Syn = _syn,
        HeldMilliseconds = held,
    };

    private Task RefuseAndCloseAsync(ReflectReport report, CancellationToken stopping)
    {
        EndReason = ConnectionCloseReason.Error;
        return AnswerAsync(report, 0, stopping);
    }

    private async Task AnswerAsync(ReflectReport report, int size, CancellationToken stopping)
    {
        var line = ReflectPadding.Pad(report.ToJson(), size);
        metrics.ReflectRequest(report.Error is null ? EchoServerMetrics.ReflectAnswered : EchoServerMetrics.ReflectRefused);
        await socket.SendAsync(line, SocketFlags.None, stopping).ConfigureAwait(false);
        metrics.AddSent(line.Length);
    }

    private async Task<bool> FillAsync(CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(options.MaxHold, time);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            var count = await socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, idle.Token).ConfigureAwait(false);
            _filled += count;
            metrics.AddReceived(count);
            return count > 0;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            EndReason = ConnectionCloseReason.Idle; // idle for longer than a hold may last
            return false;
        }
    }

    private void Consume(int count)
    {
        _buffer.AsSpan(count, _filled - count).CopyTo(_buffer);
        _filled -= count;
    }

    private bool TakeToken()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(options.RequestsPerSecond, _tokens + (now - _lastRefill) * (double)options.RequestsPerSecond / time.TimestampFrequency);
        _lastRefill = now;
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }
}
