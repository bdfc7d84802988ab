using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;

namespace EchoKit.Server.Internal;

/// <summary>
/// A listening stream socket (TCP, TLS over TCP, or Unix) and its accept loop. Each accepted client is checked
/// against the access list and the connection limit before a byte is read, then becomes a
/// <see cref="TcpEchoConnection"/> owned by the server's <see cref="ConnectionTracker"/>, echoed by the listener's
/// engine (epoll or System.Net.Sockets): one accept loop and one admission check for both engines. Accept errors back off and
/// never end the loop; only <see cref="StopAccepting"/> does.
/// </summary>
internal sealed class TcpEchoListener : IEchoListener
{
    private readonly Socket _socket;
    private readonly StreamListenerContext _context;
    private readonly ServerContext _server;
    private readonly string? _unixPath;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private TcpEchoListener(Socket socket, BoundListener bound, StreamListenerContext context, string? unixPath)
    {
        _socket = socket;
        Bound = bound;
        _context = context;
        _server = context.Server;
        _unixPath = unixPath;
    }

    public BoundListener Bound { get; }

    /// <summary>The engine serving this listener's connections: "epoll" or "sockets".</summary>
    public string EngineName => _context.EngineName;

    /// <summary>Refusals on this listener.</summary>
    public RejectionCounters Rejections => _context.Rejections;

    /// <summary>A TCP listener, or a TLS one when <paramref name="tls"/> is given.</summary>
    public static TcpEchoListener Bind(IPEndPoint address, bool dualStack, ListenEndpoint endpoint, ServerContext server, System.Net.Security.SslServerAuthenticationOptions? tls, EpollEngine? epoll)
    {
        var scheme = tls is null ? "tcp" : "tls";
        var socket = ListenSockets.Listen(address, dualStack, scheme, server.Options.Backlog, server.Options.ReusePort);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var uri = EndpointResolver.FormatUri(scheme, local);
        var bound = new BoundListener(tls is null ? ListenProtocol.Tcp : ListenProtocol.Tls, local, uri);
        return new TcpEchoListener(socket, bound, new StreamListenerContext(server, uri, isUnix: false, endpoint.UseProxyProtocol, tls, tls is null ? epoll : null), null);
    }

    /// <summary>A Unix domain stream listener at <see cref="ListenEndpoint.UnixPath"/>; its file is removed on dispose.</summary>
    public static TcpEchoListener BindUnix(ListenEndpoint endpoint, ServerContext server, EpollEngine? epoll)
    {
        var path = endpoint.UnixPath!;
        var endPoint = new UnixDomainSocketEndPoint(path);
        var uri = EndpointResolver.FormatUri("unix", endPoint);
        var socket = UnixSockets.BindAndListen(path, endpoint.UnixMode, server.Options.Backlog, uri, server.Logger);
        var bound = new BoundListener(ListenProtocol.Unix, endPoint, uri);
        return new TcpEchoListener(socket, bound, new StreamListenerContext(server, uri, isUnix: true, endpoint.UseProxyProtocol, null, epoll), path);
    }

    public Task RunAsync() => AcceptLoop.RunAsync(
        _socket,
        Accept,
        (error, delay) => ServerLog.AcceptError(_server.Logger, Bound.Uri, error.SocketErrorCode.ToString(), (int)delay.TotalMilliseconds),
        _server.Time,
        _stopping.Token);

    private void Accept(Socket client)
    {
        // A TCP client's address is formatted only when something logs it (most connections never are).
        string? remote = null;
        IPEndPoint? ip = null;
        try
        {
            if (_context.IsUnix)
            {
                remote = UnixPeer.Describe(client);
            }
            else
            {
                client.NoDelay = true; // echoes are small and latency-bound: never wait to coalesce
                ip = client.RemoteEndPoint as IPEndPoint;
            }
        }
        catch (SocketException ex)
        {
            // The client left between accept() and here: nothing to serve.
            ServerLog.ConnectionReset(_server.Logger, 0, "unknown", Bound.Uri, ex.SocketErrorCode.ToString());
            client.Dispose();
            return;
        }

        // Refusals happen here, before a byte is read, and cost the listener nothing but a close.
        if (ip is not null && _server.Options.AccessList is { } access && !access.Allows(ip.Address))
        {
            Reject(client, remote ?? EndpointResolver.FormatAddress(ip), ConnectionRejectReason.Denied, "denied by the access list");
            return;
        }
        var permit = false;
        if (_server.Limiter is { } limiter)
        {
            if (!limiter.TryAcquire())
            {
                Reject(client, remote ?? (ip is not null ? EndpointResolver.FormatAddress(ip) : "unknown"), ConnectionRejectReason.MaxConnections, $"{limiter.Max} connections open (--max-connections)");
                return;
            }
            permit = true;
        }
        var connection = new TcpEchoConnection(_server.Tracker.NextId(), client, _context, ip, remote) { HoldsPermit = permit };
        _server.Tracker.Run(connection);
    }

    private void Reject(Socket client, string remote, ConnectionRejectReason reason, string why)
    {
        _context.CountRejection(reason);
        // Close at once: the kernel answers the client with FIN (or RST if it already sent data); nothing is echoed.
        client.Dispose();
        ServerLog.ConnectionRejected(_server.Logger, remote, Bound.Uri, why);
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
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Dispose();
            if (_unixPath is not null)
            {
                UnixSockets.Remove(_unixPath, Bound.Uri, _server.Logger);
            }
        }
        return ValueTask.CompletedTask;
    }
}
