using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Endpoints;
using EchoKit.Server;
using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Observability;

/// <summary>
/// A deliberately small HTTP/1.1 responder for scrapers and probes: <c>GET /metrics</c>, <c>/healthz</c>,
/// <c>/readyz</c>, one request per connection (<c>Connection: close</c>). It binds through the same socket code as
/// the echo listeners, so <c>:0</c> gets an ephemeral port it can report, which HttpListener cannot; and it keeps
/// the Native-AOT program free of Kestrel. Bounded everywhere: request head size, time to send the head (short),
/// time to take the answer, connections held.
/// </summary>
/// <remarks>
/// Slow or idle clients must not starve a liveness probe. A waiting connection costs a socket and a small state
/// machine, no request buffer: it waits for data with a zero-byte read and rents its 8 KiB only when bytes arrive, so
/// thousands are cheap. Each has <see cref="DefaultHeaderTimeout"/> to send its head. At <see cref="MaxConnections"/> the oldest
/// connection still sending its head is closed to make room, so a newcomer (the probe) is always read.
/// </remarks>
internal sealed class MetricsHttpServer : IAsyncDisposable
{
    /// <summary>Largest request head read (request line and headers); a scraper's is a few hundred bytes.</summary>
    public const int MaxRequestHeadBytes = 8 * 1024;

    /// <summary>
    /// Connections held at once (a waiting one measured about 12 KiB of RSS, GC headroom included). At the limit the oldest one still sending its head
    /// is closed for a newcomer; only when all are being answered is the newcomer closed.
    /// </summary>
    public const int MaxConnections = 4096;

    /// <summary>Pending connections the kernel queues before the accept loop takes them (a burst of probes and slow clients).</summary>
    public const int ListenBacklog = 512;

    /// <summary>Default time a client has to send its request head: 5 s (a probe's whole timeout is usually 1 s).</summary>
    public static readonly TimeSpan DefaultHeaderTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Default time, once the head is in, to take the answer and close: 10 s.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Func<bool> _isReady;
    private readonly Func<Stream, CancellationToken, Task> _writeMetrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _headerTimeout;
    private readonly int _maxConnections;
    private readonly TimeSpan _requestTimeout;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(Socket Socket, BoundListener Bound)> _sockets = [];
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<long, Task> _requests = new();
    private readonly Lock _gate = new();
    // Open connections, oldest first (guarded by _gate).
    private readonly LinkedList<MetricsConnection> _open = new();
    private long _nextRequestId;
    private int _stopped;

    /// <param name="isReady">What <c>/readyz</c> reports: true gives 200, false 503.</param>
    /// <param name="writeMetrics">Writes the Prometheus text exposition for <c>/metrics</c>.</param>
    /// <param name="logger">Where failed requests are logged (Debug) and faults (Error).</param>
    /// <param name="timeProvider">Clock for the request timeout and accept back-off.</param>
    /// <param name="requestTimeout">Time, once the head is in, to read the answer and close; default 10 s.</param>
    /// <param name="headerTimeout">Time a client has to send its request head; default 5 s.</param>
    /// <param name="maxConnections">Connections held at once; default <see cref="MaxConnections"/>.</param>
    public MetricsHttpServer(Func<bool> isReady, Func<Stream, CancellationToken, Task> writeMetrics, ILogger logger, TimeProvider? timeProvider = null,
        TimeSpan? requestTimeout = null, TimeSpan? headerTimeout = null, int maxConnections = MaxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        _maxConnections = maxConnections;
        _requestTimeout = requestTimeout ?? DefaultRequestTimeout;
        _headerTimeout = headerTimeout ?? DefaultHeaderTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_requestTimeout, TimeSpan.Zero, nameof(requestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_headerTimeout, TimeSpan.Zero, nameof(headerTimeout));
        _isReady = isReady;
        _writeMetrics = writeMetrics;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Connections open now (waiting for their head or being answered).</summary>
    internal int OpenConnections
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>The bound HTTP listeners, with their real ports, e.g. <c>http://127.0.0.1:41235</c>.</summary>
    public IReadOnlyList<BoundListener> Listeners => _sockets.Select(s => s.Bound).ToArray();

    /// <summary>Binds <paramref name="endpoint"/> (every address it resolves to) and starts serving.</summary>
    public async Task StartAsync(EndpointSpec endpoint, CancellationToken cancellationToken)
    {
        // The echo listeners' bind helper: a name with several addresses and port 0 gets one port for all.
        var sockets = await ListenerBinding.ListenAsync(endpoint, "http", ListenBacklog, cancellationToken).ConfigureAwait(false);
        foreach (var socket in sockets)
        {
            var local = (IPEndPoint)socket.LocalEndPoint!;
            var bound = new BoundListener(ListenProtocol.Tcp, local, EndpointResolver.FormatUri("http", local));
            _sockets.Add((socket, bound));
            _loops.Add(AcceptLoopAsync(socket, bound.Uri, _stopping.Token));
        }
    }

    private async Task AcceptLoopAsync(Socket listener, string uri, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await AcceptLoop.RunAsync(
            listener,
            client => Accept(client, uri, cancellationToken),
            (error, delay) => MetricsEndpointLog.MetricsAcceptError(_logger, uri, error.SocketErrorCode.ToString(), (int)delay.TotalMilliseconds),
            _time,
            cancellationToken).ConfigureAwait(false);
    }

    private void Accept(Socket client, string uri, CancellationToken cancellationToken)
    {
        string remote;
        try
        {
            remote = EndpointResolver.FormatEndPoint(client.RemoteEndPoint);
        }
        catch (SocketException ex)
        {
            // The client left between accept() and here: nothing to answer.
            MetricsEndpointLog.MetricsRequestFailed(_logger, "unknown", uri, ex.SocketErrorCode.ToString());
            client.Dispose();
            return;
        }
        var connection = new MetricsConnection(client, remote, _headerTimeout, _time, cancellationToken);
        MetricsConnection? evicted = null;
        lock (_gate)
        {
            if (_open.Count >= _maxConnections)
            {
                for (var node = _open.First; node is not null; node = node.Next)
                {
                    if (!node.Value.HeadReceived)
                    {
                        evicted = node.Value;
                        _open.Remove(node);
                        evicted.Node = null;
                        break;
                    }
                }
            }
            if (_open.Count < _maxConnections)
            {
                connection.Node = _open.AddLast(connection);
            }
        }
        if (evicted is not null)
        {
            MetricsEndpointLog.MetricsBusy(_logger, evicted.Remote, uri, _maxConnections);
            evicted.Evict();
        }
        if (connection.Node is null)
        {
            // Every held connection is being answered (each bounded by the request timeout): refuse this one.
            MetricsEndpointLog.MetricsBusy(_logger, remote, uri, _maxConnections);
            connection.Dispose();
            return;
        }
        // Each request removes itself when done and StopAsync awaits the rest. If a request finished before it
        // was added, the check after adding removes it instead.
        var id = Interlocked.Increment(ref _nextRequestId);
        var request = ServeAsync(connection, uri, id, cancellationToken);
        _requests[id] = request;
        if (request.IsCompleted)
        {
            _requests.TryRemove(id, out _);
        }
    }

    private async Task ServeAsync(MetricsConnection connection, string uri, long id, CancellationToken stopping)
    {
        await Task.Yield();
        var client = connection.Socket;
        var remote = connection.Remote;
        var timeout = connection.Token;
        byte[]? buffer = null;
        try
        {
            // Wait for the first bytes without a buffer: an idle client holds a socket, not 8 KiB.
            await client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout).ConfigureAwait(false);
            buffer = ArrayPool<byte>.Shared.Rent(MaxRequestHeadBytes);
            var head = await ReadHeadAsync(client, buffer, timeout).ConfigureAwait(false);
            connection.HeadDone(_requestTimeout);
            var response = head is null
                ? HttpResponse.Text(431, "Request Header Fields Too Large", "request head too large\n")
                : await RespondAsync(head.Value, timeout).ConfigureAwait(false);
            if (response.StatusCode >= 400)
            {
                MetricsEndpointLog.MetricsRequestFailed(_logger, remote, uri, $"{response.StatusCode} {response.ReasonPhrase}");
            }
            await client.SendAsync(response.Encode(), SocketFlags.None, timeout).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
            await DrainAsync(client, buffer, timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            var why = stopping.IsCancellationRequested ? "server stopping"
                : connection.Evicted ? "closed for a newer connection (too many open)"
                : connection.HeadReceived ? "request timed out" : "request head timed out";
            MetricsEndpointLog.MetricsRequestFailed(_logger, remote, uri, why);
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode) || SocketErrors.IsAbortError(ex.SocketErrorCode))
        {
            MetricsEndpointLog.MetricsRequestFailed(_logger, remote, uri, ex.SocketErrorCode.ToString());
        }
        catch (HttpRequestFormatException ex)
        {
            MetricsEndpointLog.MetricsRequestFailed(_logger, remote, uri, ex.Message);
        }
        catch (Exception ex)
        {
            MetricsEndpointLog.MetricsRequestFault(_logger, remote, uri, ex);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            lock (_gate)
            {
                if (connection.Node is { } node)
                {
                    _open.Remove(node);
                    connection.Node = null;
                }
            }
            connection.Dispose();
            _requests.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// A lingering close: reads and discards what the client still sends (the rest of an oversized request) until it
    /// closes, at most 64 KiB and within the request timeout. Closing with unread bytes would make the kernel send a
    /// reset, which can destroy the answer before the client reads it.
    /// </summary>
    private static async Task DrainAsync(Socket client, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < 64 * 1024)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(0, MaxRequestHeadBytes), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }
            total += read;
        }
    }

    /// <summary>Reads until the blank line ending the head; null when it does not fit the buffer.</summary>
    private static async Task<HttpRequestHead?> ReadHeadAsync(Socket client, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < MaxRequestHeadBytes)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length, MaxRequestHeadBytes - length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new HttpRequestFormatException("connection closed before the request head ended");
            }
            length += read;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return HttpRequestHead.Parse(buffer.AsSpan(0, end));
            }
        }
        return null;
    }

    private async Task<HttpResponse> RespondAsync(HttpRequestHead head, CancellationToken cancellationToken)
    {
        if (head.Method is not ("GET" or "HEAD"))
        {
            return HttpResponse.Text(405, "Method Not Allowed", "only GET and HEAD\n", head.Method == "HEAD") with { Allow = "GET, HEAD" };
        }
        var headOnly = head.Method == "HEAD";
        switch (head.Path)
        {
            case "/metrics":
                using (var body = new MemoryStream())
                {
                    await _writeMetrics(body, cancellationToken).ConfigureAwait(false);
                    return new HttpResponse(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body.ToArray(), headOnly);
                }
            case "/healthz":
                // Alive: the process answers. Nothing else is checked, so a restart is never triggered by a drain.
                return HttpResponse.Text(200, "OK", "ok\n", headOnly);
            case "/readyz":
                return _isReady()
                    ? HttpResponse.Text(200, "OK", "ready\n", headOnly)
                    : HttpResponse.Text(503, "Service Unavailable", "not ready\n", headOnly);
            case "/":
                return HttpResponse.Text(200, "OK", "echokit: /metrics /healthz /readyz\n", headOnly);
            default:
                return HttpResponse.Text(404, "Not Found", "not found\n", headOnly);
        }
    }

    /// <summary>Closes the listeners, lets requests in progress finish (they are bounded by the request timeout).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        // Cancel first, then close: the accept loops then see the close as the stop it is.
        _stopping.Cancel();
        foreach (var (socket, _) in _sockets)
        {
            socket.Dispose();
        }
        await Task.WhenAll(_loops).ConfigureAwait(false);
        await Task.WhenAll(_requests.Values).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
