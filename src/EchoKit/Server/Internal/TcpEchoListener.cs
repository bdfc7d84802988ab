using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Internal.Linux;

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
    private readonly UnixSocketFile? _unixFile;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new(); // the acceptor's start against a stop
    private EpollAcceptor? _acceptor;    // plain listeners on the epoll engine accept on a loop
    private int _disposed;

    private TcpEchoListener(Socket socket, BoundListener bound, StreamListenerContext context, UnixSocketFile? unixFile)
    {
        _socket = socket;
        Bound = bound;
        _context = context;
        _server = context.Server;
        _unixFile = unixFile;
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

    /// <summary>A Unix domain stream listener at <see cref="ListenEndpoint.UnixPath"/>; its file is removed when it stops accepting.</summary>
    public static TcpEchoListener BindUnix(ListenEndpoint endpoint, ServerContext server, EpollEngine? epoll)
    {
        var path = endpoint.UnixPath!;
        var endPoint = new UnixDomainSocketEndPoint(path);
        var uri = EndpointResolver.FormatUri("unix", endPoint);
        var socket = UnixSockets.BindAndListen(path, endpoint.UnixMode, server.Options.Backlog, uri, server.Logger, out var file);
        var bound = new BoundListener(ListenProtocol.Unix, endPoint, uri);
        return new TcpEchoListener(socket, bound, new StreamListenerContext(server, uri, isUnix: true, endpoint.UseProxyProtocol, null, epoll), file);
    }

    public Task RunAsync()
    {
        if (_context.Epoll is { } engine && !_context.UseProxyProtocol && _context.Tls is null)
        {
            // The hot path: accept4() on one of the engine's loops, no managed socket per client. A PROXY header
            // still needs the managed socket and its preamble, so those listeners keep the accept loop below.
            lock (_lock)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return Task.CompletedTask;
                }
                _acceptor = new EpollAcceptor(_socket, engine.NextLoop().Loop, this,
                    (error, delay) => ServerLog.AcceptError(_server.Logger, Bound.Uri, error.ToString(), (int)delay.TotalMilliseconds),
                    _server.Time);
                _acceptor.Start();
                return _acceptor.Completion;
            }
        }
        return AcceptLoop.RunAsync(
            _socket,
            Accept,
            (error, delay) => ServerLog.AcceptError(_server.Logger, Bound.Uri, error.SocketErrorCode.ToString(), (int)delay.TotalMilliseconds),
            _server.Time,
            _stopping.Token);
    }

    /// <summary>
    /// A client the <see cref="EpollAcceptor"/> accepted: <paramref name="fd"/> is non-blocking and now owned here,
    /// <paramref name="sockaddr"/> its address as the kernel wrote it. Runs on the accepting loop, or at stop on the
    /// stopping thread (<see cref="TakeQueued"/>).
    /// </summary>
    internal void AcceptNative(int fd, ReadOnlySpan<byte> sockaddr)
    {
        string? remote = null;
        var peer = default(PeerAddress);
        if (_context.IsUnix)
        {
            remote = UnixPeer.Describe(fd);
        }
        else
        {
            var on = 1;
            Libc.SetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, ref on, sizeof(int)); // as Accept below
            peer = PeerAddress.Read(sockaddr);
        }
        if (!Admit(peer, remote, out var permit))
        {
            return;
        }
        _server.Tracker.Run(new TcpEchoConnection(_server.Tracker.NextId(), fd, _context, peer, remote) { HoldsPermit = permit });

        bool Admit(PeerAddress peer, string? remote, out bool permit)
        {
            permit = false;
            if (!peer.IsEmpty && _server.Options.AccessList is { } access && !access.Allows(peer.ToAddress()!))
            {
                RejectNative(fd, remote ?? EndpointResolver.FormatAddress(peer.ToEndPoint()!), ConnectionRejectReason.Denied, "denied by the access list");
                return false;
            }
            if (_server.Limiter is { } limiter)
            {
                if (!limiter.TryAcquire())
                {
                    RejectNative(fd, remote ?? (peer.ToEndPoint() is { } ip ? EndpointResolver.FormatAddress(ip) : "unknown"), ConnectionRejectReason.MaxConnections, $"{limiter.Max} connection(s) open (--max-connections)");
                    return false;
                }
                permit = true;
            }
            return true;
        }
    }

    private void RejectNative(int fd, string remote, ConnectionRejectReason reason, string why)
    {
        _context.CountRejection(reason);
        Libc.CloseQuietly(fd); // as Reject: FIN (or RST if it already sent data), nothing echoed
        ServerLog.ConnectionRejected(_server.Logger, remote, Bound.Uri, why);
    }

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
                Reject(client, remote ?? (ip is not null ? EndpointResolver.FormatAddress(ip) : "unknown"), ConnectionRejectReason.MaxConnections, $"{limiter.Max} connection(s) open (--max-connections)");
                return;
            }
            permit = true;
        }
        var connection = new TcpEchoConnection(_server.Tracker.NextId(), client, _context, PeerAddress.From(ip), remote) { HoldsPermit = permit };
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
        lock (_lock)
        {
            if (!_stopping.IsCancellationRequested)
            {
                _stopping.Cancel();
                TakeQueued();
                if (_acceptor is { } acceptor)
                {
                    acceptor.Stop(); // the listening descriptor is registered on a loop: closed there
                }
                else
                {
                    // Closing the listening socket makes the kernel refuse new connects at once.
                    _socket.Dispose();
                }
                // At once, not after the drain: a new server may take the path meanwhile (a rolling restart), and
                // clients are told "no such socket" rather than "refused". Only the file this listener bound goes.
                _unixFile?.Remove(Bound.Uri, _server.Logger);
            }
        }
    }

    /// <summary>
    /// Before the listener closes: accepts every client already in its accept queue, so they are served (and get the
    /// stop's grace) like any other open connection. Their handshake is done and they may have sent data already;
    /// closing the listener would reset them. A client that completes its handshake after this is refused as new.
    /// Bounded by the backlog, so a connect storm cannot hold the stop. Linux only (elsewhere the queue is reset).
    /// </summary>
    private void TakeQueued()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            if (_acceptor is null)
            {
                _socket.Blocking = false; // accept4() below must say EAGAIN once the queue is empty, never wait
            }
            var listener = (int)_socket.SafeHandle.DangerousGetHandle();
            Span<byte> address = stackalloc byte[128]; // sockaddr_un is 110 bytes
            for (var i = 0; i < _server.Options.Backlog; i++)
            {
                var fd = Libc.AcceptNonBlocking(listener, address, out var length);
                if (fd < 0)
                {
                    return; // EAGAIN: the queue is empty (or an accept error: the listener closes anyway)
                }
                if (_acceptor is not null)
                {
                    AcceptNative(fd, address[..length]);
                }
                else
                {
                    Accept(new Socket(new SafeSocketHandle(fd, ownsHandle: true)));
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The listener is already closed: nothing queued is left to take.
        }
    }

    public ValueTask DisposeAsync()
    {
        StopAccepting();
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
