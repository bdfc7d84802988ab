using System.Net;
using System.Net.Security;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Server.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoKit.Server;

/// <summary>
/// The echo server: binds its listeners, echoes every byte each client sends, and stops in one order:
/// stop accepting, let open connections finish, wait up to the shutdown timeout, abort the rest, dispose.
/// </summary>
/// <example>
/// <code>
/// var options = new EchoServerOptions();
/// options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
/// await using var server = new EchoServer(options);
/// await server.StartAsync(ct);
/// Console.WriteLine(server.Listeners[0].Uri);   // tcp://127.0.0.1:43121
/// ...
/// await server.StopAsync(ct);
/// </code>
/// </example>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly EchoServerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConnectionTracker _tracker;
    private readonly List<IEchoListener> _listeners = [];
    private readonly List<Task> _listenerLoops = [];
    private readonly SemaphoreSlim _stateLock = new(1, 1);
    private readonly ServerInstruments _instruments = new();
    private readonly ServerContext _context;
    private readonly Dictionary<string, RejectionCounters> _listenerRejections = [];
    private SslServerAuthenticationOptions? _tls;
    private IdleSweeper? _idleSweeper;
    private EpollEngine? _epoll;
    private State _state;
    private volatile bool _started;
    private volatile bool _stopRequested;

    private enum State { Created, Started, Stopped }

    /// <summary>Creates a server; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings, validated here.</param>
    /// <param name="loggerFactory">Where connection and lifecycle events go; none by default.</param>
    /// <param name="timeProvider">Clock for durations and the shutdown timeout; the system clock by default.</param>
    public EchoServer(EchoServerOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("EchoKit.Server");
        _time = timeProvider ?? TimeProvider.System;
        _tracker = new ConnectionTracker(_time);
        _context = new ServerContext(options, _logger, _time, _tracker, _instruments);
    }

    /// <summary>Connections refused so far, by reason, over all listeners. Safe to read from any thread.</summary>
    public RejectionCounters Rejections => _context.Rejections;

    /// <summary>Connections refused so far on each stream listener, keyed by its URI, after <see cref="StartAsync"/>.</summary>
    public IReadOnlyDictionary<string, RejectionCounters> ListenerRejections => _listenerRejections;

    /// <summary>The bound listeners, in the order given, after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<BoundListener> Listeners => _listeners.Select(l => l.Bound).ToArray();

    /// <summary>Datagram counts of every UDP listener together; readable at any time, from any thread.</summary>
    public UdpCounters UdpCounters { get; } = new();

    /// <summary>Connections open right now.</summary>
    public int ConnectionCount => _tracker.Count;

    /// <summary>
    /// Bytes in and out of each open connection, whether it holds a buffer, and (epoll engine; 0 on sockets) how much it
    /// reads at a time (diagnostics and tests).
    /// </summary>
    internal IReadOnlyList<(long Id, long BytesIn, long BytesOut, bool HoldsBuffer, int ReadSize)> ConnectionStats() =>
        _tracker.Snapshot().Select(c => (c.Id, c.BytesIn, c.BytesOut, c.HoldsBuffer, c.ReadSize)).ToArray();

    /// <summary>
    /// True once every listener is bound and serving, false again the moment <see cref="StopAsync"/> is called
    /// (before it waits for anything): what a readiness probe should report, so a load balancer stops sending new
    /// clients while open connections drain.
    /// </summary>
    public bool IsReady => _started && !_stopRequested;

    /// <summary>
    /// Binds every listener and starts serving. If any listener fails to bind, those already bound are closed and
    /// the <see cref="ListenerBindException"/> is thrown: a server starts whole or not at all.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _stateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_state != State.Created)
            {
                throw new InvalidOperationException("the server was already started");
            }
            // Reflect listeners alone do not bring the default echo listener along. The default is loopback and an
            // ephemeral port: safe to embed (the echokit program asks for :50007 itself).
            var endpoints = _options.Endpoints.Count > 0 || _options.Reflect.HasEndpoints
                ? _options.Endpoints.ToArray()
                : [ListenEndpoint.Tcp("127.0.0.1:0")];
            try
            {
                foreach (var endpoint in endpoints)
                {
                    await BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
                }
                await BindReflectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                foreach (var listener in _listeners)
                {
                    await listener.DisposeAsync().ConfigureAwait(false);
                }
                _listeners.Clear();
                _epoll?.Dispose();
                _epoll = null;
                throw;
            }
            foreach (var listener in _listeners)
            {
                ServerLog.Listening(_logger, listener.Bound.Uri);
                if (listener is TcpEchoListener stream)
                {
                    if (stream.EngineName == "epoll")
                    {
                        ServerLog.ListenerOnEpoll(_logger, listener.Bound.Uri, _epoll!.LoopCount);
                    }
                    else
                    {
                        ServerLog.ListenerOnSockets(_logger, listener.Bound.Uri);
                    }
                }
                _listenerLoops.Add(RunListenerAsync(listener));
            }
            if (_options.IdleTimeout is { } idle)
            {
                _idleSweeper = new IdleSweeper(_tracker, idle, _time, _logger);
            }
            _state = State.Started;
            _started = true;
        }
        finally
        {
            _stateLock.Release();
        }
    }

    /// <summary>
    /// Stops gracefully: closes the listeners at once (new connects are refused), keeps echoing on open connections
    /// until they close or <see cref="EchoServerOptions.ShutdownTimeout"/> passes, then closes the rest.
    /// Cancelling <paramref name="cancellationToken"/> skips the wait and closes everything at once.
    /// Calling it twice, or before start, is harmless.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        // Unready first, without the lock and for good: probes see the drain begin at once, even if a start
        // still binding finishes after this.
        _stopRequested = true;
        await _stateLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_state != State.Started)
            {
                _state = State.Stopped;
                _tracker.Dispose();
                return;
            }
            _state = State.Stopped;

            // 1. Stop accepting; wait for the accept loops so no connection is added behind our back.
            foreach (var listener in _listeners)
            {
                listener.StopAccepting();
            }
            await Task.WhenAll(_listenerLoops).ConfigureAwait(false);

            // 2. Let open connections finish, up to the timeout. The idle sweep goes on: a connection that falls
            //    quiet for --idle-timeout while the server drains leaves as it would at any other time.
            var open = _tracker.Count;
            if (open > 0)
            {
                ServerLog.ShutdownStarted(_logger, _options.ShutdownTimeout.TotalSeconds, open);
                try
                {
                    await _tracker.WhenAllClosed().WaitAsync(_options.ShutdownTimeout, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
                {
                    // 3. Time is up (or the caller insisted): close the rest.
                    ServerLog.ShutdownAborting(_logger, _tracker.Count);
                }
            }

            // 4. Abort whatever is left and wait for every connection task to observe it; no sweep runs after this.
            if (_idleSweeper is not null)
            {
                await _idleSweeper.DisposeAsync().ConfigureAwait(false);
            }
            _tracker.AbortAll();
            await _tracker.WhenAllClosed().ConfigureAwait(false);

            foreach (var listener in _listeners)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }
            _tracker.Dispose();
            // Every connection has closed on its loop by now: the loops can go.
            _epoll?.Dispose();
            ServerLog.Stopped(_logger);
        }
        finally
        {
            _stateLock.Release();
        }
    }

    /// <summary>Stops at once, closing open connections without waiting (see <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        using var now = new CancellationTokenSource();
        now.Cancel();
        await StopAsync(now.Token).ConfigureAwait(false);
        _instruments.Dispose();
    }

    private async Task BindAsync(ListenEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.Protocol == ListenProtocol.Unix)
        {
            _listeners.Add(AddStreamListener(TcpEchoListener.BindUnix(endpoint, _context, Epoll())));
            return;
        }
        // A name resolving to several addresses with port 0: every socket shares the first one's port.
        var listeners = await ListenerBinding.BindEachAsync<IEchoListener>(
            endpoint.Endpoint,
            endpoint.Protocol switch { ListenProtocol.Tls => "tls", ListenProtocol.Udp => "udp", _ => "tcp" },
            (target, dualStack) => endpoint.Protocol switch
            {
                ListenProtocol.Tcp => AddStreamListener(TcpEchoListener.Bind(target, dualStack, endpoint, _context, null, Epoll())),
                ListenProtocol.Tls => AddStreamListener(TcpEchoListener.Bind(target, dualStack, endpoint, _context, _tls ??= TlsServerOptions.Create(_options.Tls), null)),
                ListenProtocol.Udp => WithMetrics(UdpEchoListener.Bind(target, dualStack, _options, UdpCounters, _logger, _time)),
                _ => throw new NotSupportedException($"protocol {endpoint.Protocol} is not supported"),
            },
            listener => listener.Bound.Port,
            listener => listener.DisposeAsync(),
            cancellationToken).ConfigureAwait(false);
        _listeners.AddRange(listeners);
    }

    /// <summary>The epoll engine for a plain stream listener, started with the first one; null when sockets serve them.</summary>
    private EpollEngine? Epoll() => _options.UsesEpoll
        ? _epoll ??= new EpollEngine(_options.EventLoopCount, _options.ReceiveBufferSize, _logger)
        : null;

    /// <summary>
    /// The engine serving each stream listener, keyed by its URI ("epoll" or "sockets"), after <see cref="StartAsync"/>.
    /// </summary>
    internal IReadOnlyDictionary<string, string> ListenerEngines =>
        _listeners.OfType<TcpEchoListener>().ToDictionary(l => l.Bound.Uri, l => l.EngineName);

    private async Task BindReflectAsync(CancellationToken cancellationToken)
    {
        foreach (var (endpoint, udp) in _options.Reflect.TcpEndpoints.Select(e => (e, false)).Concat(_options.Reflect.UdpEndpoints.Select(e => (e, true))))
        {
            var listeners = await ListenerBinding.BindEachAsync<IEchoListener>(
                endpoint,
                udp ? "reflect+udp" : "reflect+tcp",
                (target, dualStack) => udp
                    ? Reflect.ReflectUdpListener.Bind(target, dualStack, _options, _logger, _time, _instruments)
                    : Reflect.ReflectTcpListener.Bind(target, dualStack, _options, _logger, _time, _instruments),
                listener => listener.Bound.Port,
                listener => listener.DisposeAsync(),
                cancellationToken).ConfigureAwait(false);
            _listeners.AddRange(listeners);
        }
    }

    private TcpEchoListener AddStreamListener(TcpEchoListener listener)
    {
        _listenerRejections[listener.Bound.Uri] = listener.Rejections;
        return listener;
    }

    private UdpEchoListener WithMetrics(UdpEchoListener listener)
    {
        _instruments.ForListener(listener.Bound.Uri).Udp = listener.Snapshot;
        return listener;
    }

    private async Task RunListenerAsync(IEchoListener listener)
    {
        try
        {
            await listener.RunAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A listener loop should never fault; if it does, say so, and let the others run on.
            ServerLog.AcceptFault(_logger, listener.Bound.Uri, ex);
        }
    }
}
