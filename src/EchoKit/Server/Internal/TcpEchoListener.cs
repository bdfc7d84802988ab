using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// A listening TCP socket and its accept loop. Each accepted client becomes a <see cref="TcpEchoConnection"/>
/// owned by the server's <see cref="ConnectionTracker"/>. Accept errors back off and never end the loop; only
/// <see cref="StopAccepting"/> does.
/// </summary>
internal sealed class TcpEchoListener : IEchoListener
{
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly EchoServerOptions _options;
    private readonly ConnectionTracker _tracker;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ListenerMetrics _metrics;

    private TcpEchoListener(Socket socket, BoundListener bound, EchoServerOptions options, ConnectionTracker tracker, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        _metrics = instruments.ForListener(bound.Uri);
        _socket = socket;
        Bound = bound;
        _options = options;
        _tracker = tracker;
        _logger = logger;
        _time = time;
    }

    public BoundListener Bound { get; }

    public static TcpEchoListener Bind(IPEndPoint address, bool dualStack, EchoServerOptions options, ConnectionTracker tracker, ILogger logger, TimeProvider time, ServerInstruments instruments)
    {
        var socket = ListenSockets.Bind(address, SocketType.Stream, ProtocolType.Tcp, dualStack, "tcp");
        try
        {
            socket.Listen(options.Backlog);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenerBindException(EndpointResolver.FormatUri("tcp", address), ex.SocketErrorCode, ex);
        }
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var bound = new BoundListener(ListenProtocol.Tcp, local, EndpointResolver.FormatUri("tcp", local));
        return new TcpEchoListener(socket, bound, options, tracker, logger, time, instruments);
    }

    public async Task RunAsync()
    {
        var backoff = TimeSpan.Zero;
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
            }
            catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // EMFILE, ENOBUFS, a connection reset while queued...: wait a little and go on; the listener lives.
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
                EchoKitLog.AcceptError(_logger, Bound.Uri, ex.SocketErrorCode.ToString(), (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            Accept(client);
        }
    }

    private void Accept(Socket client)
    {
        EndPoint? remote;
        try
        {
            client.NoDelay = true; // echoes are small and latency-bound: never wait to coalesce
            remote = client.RemoteEndPoint;
        }
        catch (SocketException ex)
        {
            // The client left between accept() and here: nothing to serve.
            EchoKitLog.ConnectionReset(_logger, 0, "unknown", Bound.Uri, ex.SocketErrorCode.ToString());
            client.Dispose();
            return;
        }
        var connection = new TcpEchoConnection(_tracker.NextId(), client, Bound.Uri, remote, _options, _logger, _time, _metrics);
        _tracker.Run(connection);
    }

    public void StopAccepting()
    {
        if (!_stopping.IsCancellationRequested)
        {
            _stopping.Cancel();
            // Closing the listening socket makes the kernel refuse new connects at once.
            _socket.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
