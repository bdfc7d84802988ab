using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Server.Internal;
using EchoKit.Server.ProxyProtocol;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Reflect;

/// <summary>
/// A TCP reflect listener: each connection sends request lines and gets one answer line per request, telling what
/// the server saw (docs/reflect.md). Connections are bounded in number, request size, rate and idle time; a stop
/// closes them at once (a reflect answer is not worth a drain).
/// </summary>
internal sealed class ReflectTcpListener : IEchoListener
{
    private static ReadOnlySpan<byte> ProxyV2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private readonly Socket _listener;
    private readonly ReflectOptions _options;
    private readonly EchoServerOptions _server;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ListenerMetrics _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private long _nextId;
    private int _open;

    private ReflectTcpListener(Socket listener, ReflectOptions options, EchoServerOptions server, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        _listener = listener;
        _options = options;
        _server = server;
        _logger = logger;
        _time = time;
        Bound = new BoundListener(ListenProtocol.Tcp, listener.LocalEndPoint!, EndpointResolver.FormatUri("reflect+tcp", listener.LocalEndPoint!));
        _metrics = instruments.ForListener(Bound.Uri);
    }

    public BoundListener Bound { get; }

    public static ReflectTcpListener Bind(IPEndPoint address, bool dualStack, EchoServerOptions server, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        var socket = ListenSockets.Listen(address, dualStack, "reflect+tcp", server.Backlog, configure: listener => SavedSyn.Enable(listener));
        return new ReflectTcpListener(socket, server.Reflect, server, logger, time, instruments);
    }

    public async Task RunAsync()
    {
        await AcceptLoop.RunAsync(_listener, Accepted, (ex, delay) => ReflectLog.AcceptFailed(_logger, Bound.Uri, ex.SocketErrorCode, delay.TotalMilliseconds), _time, _stop.Token)
            .ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
    }

    public void StopAccepting()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }
        _listener.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        _stop.Dispose();
    }

    private void Accepted(Socket client)
    {
        if (_server.AccessList is { IsEmpty: false } access && client.RemoteEndPoint is IPEndPoint remote && !access.Allows(remote.Address))
        {
            client.Dispose();
            _metrics.ConnectionRejected(EchoServerMetrics.RejectDenied);
            return;
        }
        if (Interlocked.Increment(ref _open) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _open);
            client.Dispose();
            _metrics.ConnectionRejected(EchoServerMetrics.RejectMaxConnections);
            return;
        }
        var id = Interlocked.Increment(ref _nextId);
        // The connection starts only once it is registered, so its own removal can never come first.
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[id] = ServeAsync(id, client, registered.Task);
        registered.SetResult();
    }

    private async Task ServeAsync(long id, Socket socket, Task registered)
    {
        await registered.ConfigureAwait(false);
        var opened = _time.GetTimestamp();
        var reason = ConnectionCloseReason.ClosedByPeer;
        _metrics.ConnectionOpened();
        try
        {
            var connection = new ReflectTcpConnection(socket, _options, _server.ProxyProtocol, _time, _metrics);
            await connection.RunAsync(_stop.Token).ConfigureAwait(false);
            reason = connection.EndReason;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            reason = ConnectionCloseReason.Shutdown; // the connection is closed below
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode) || SocketErrors.IsAbortError(ex.SocketErrorCode))
        {
            reason = _stop.IsCancellationRequested ? ConnectionCloseReason.Shutdown : ConnectionCloseReason.Reset;
            ReflectLog.ConnectionLost(_logger, ex.SocketErrorCode);
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
            reason = ConnectionCloseReason.Shutdown; // closed under us by the stop
        }
        catch (Exception ex)
        {
            reason = ConnectionCloseReason.Error;
            ReflectLog.ConnectionFault(_logger, ex);
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _open);
            _metrics.ConnectionClosed(reason, _time.GetElapsedTime(opened));
            _connections.TryRemove(id, out _);
        }
    }

    /// <summary>True when <paramref name="data"/> begins like a PROXY header (v1 text or v2 binary), or could still.</summary>
    internal static bool LooksLikeProxyHeader(ReadOnlySpan<byte> data)
    {
        var v1 = "PROXY "u8;
        var n = Math.Min(data.Length, v1.Length);
        if (n > 0 && data[..n].SequenceEqual(v1[..n]))
        {
            return true;
        }
        n = Math.Min(data.Length, ProxyV2Signature.Length);
        return n > 0 && data[..n].SequenceEqual(ProxyV2Signature[..n]);
    }
}
