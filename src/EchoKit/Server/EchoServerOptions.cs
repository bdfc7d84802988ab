namespace EchoKit.Server;

/// <summary>
/// Settings for <see cref="EchoServer"/>. Every default is safe to expose: bounded buffering per connection,
/// a bounded shutdown.
/// </summary>
public sealed class EchoServerOptions
{
    /// <summary>The <c>echokit</c> program's default TCP port, the seed tutorial's 50007 (the library's default is port 0 on loopback).</summary>
    public const int DefaultPort = 50007;

    /// <summary>
    /// The listeners to open. Empty means TCP on 127.0.0.1 with a port the OS picks (read it from
    /// <see cref="EchoServer.Listeners"/>): an embedded server never opens a fixed port on every interface unless
    /// asked to. The <c>echokit</c> program asks for <c>:50007</c> (<see cref="DefaultPort"/>, every interface).
    /// </summary>
    public IList<ListenEndpoint> Endpoints { get; } = new List<ListenEndpoint>();

    /// <summary>
    /// Length of the queue of connections the OS completes before <c>accept()</c> takes them (listen backlog).
    /// Default 512; the kernel caps it at net.core.somaxconn.
    /// </summary>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// Bytes read from a client at a time. A client whose reads keep filling that (a bulk transfer) reads twice as
    /// much at a time, up to four times this size. The server stops reading from a client while its last read's echo
    /// cannot be sent (back-pressure), so one connection costs at most four times this much server memory (256 KiB by
    /// default) beyond the kernel's socket buffers, however it behaves. Default 64 KiB; 1 KiB to 16 MiB. A silent
    /// connection holds no buffer at all. The epoll engine reads into one buffer per event loop (four times this
    /// size) and a connection holds memory only for an echo it could not send yet; the sockets engine rents a buffer
    /// per connection once data is there, and gives it back after a quiet second.
    /// </summary>
    public int ReceiveBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// How many times <see cref="ReceiveBufferSize"/> a bulk client's reads grow to, on both engines, and so the most a
    /// connection can hold for a client that does not read, in multiples of it.
    /// </summary>
    internal const int MaxReadGrowth = 4;

    /// <summary>
    /// How long a stopping server keeps echoing on open connections before closing them (with a FIN, on both engines).
    /// Default 30 s; 0 to 24 days (the wait runs on a .NET timer, which takes at most 49.7 days).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether to log what each client sends. Default <see cref="DumpMode.None"/>.</summary>
    public DumpMode Dump { get; set; } = DumpMode.None;

    /// <summary>
    /// The most connections open at once over all stream listeners; one more is closed at once, unread, and counted
    /// (<see cref="ConnectionRejectReason.MaxConnections"/>). <see langword="null"/> (the default) means no limit
    /// beyond the process's file descriptors; 1 to 10,000,000.
    /// </summary>
    public int? MaxConnections { get; set; }

    /// <summary>
    /// Close a connection when no byte has gone either way for this long (logged with reason "idle").
    /// <see langword="null"/> (the default) never closes a quiet client; 100 ms to 7 days. Checked by one sweep per
    /// server every quarter of the timeout (at most every second), so a connection closes up to that much late.
    /// </summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// Which client addresses may connect, checked right after accept, before a byte is read; a refused client is
    /// closed and counted (<see cref="ConnectionRejectReason.Denied"/>). With the PROXY protocol this filters the
    /// proxies, not the clients behind them. Unix sockets have no address and are not filtered.
    /// <see langword="null"/> (the default) lets everyone in.
    /// </summary>
    public AccessControl.IpAccessList? AccessList { get; set; }

    /// <summary>
    /// Set SO_REUSEPORT on TCP and TLS listeners so several processes can bind the same port and the kernel spreads
    /// connections among them (Linux). Off by default: a second server on a port then fails loudly instead.
    /// </summary>
    public bool ReusePort { get; set; }

    /// <summary>
    /// The I/O engine of the plain TCP and Unix stream listeners. Default <see cref="ServerEngine.Auto"/>: the native
    /// epoll engine on 64-bit Linux, System.Net.Sockets elsewhere; TLS listeners always use System.Net.Sockets.
    /// Both engines behave the same: only speed and memory differ.
    /// </summary>
    public ServerEngine Engine { get; set; } = ServerEngine.Auto;

    /// <summary>
    /// Event loops (threads) of the epoll engine. <see langword="null"/> (the default) means one per processor the
    /// process may run on (<see cref="Environment.ProcessorCount"/>, which follows the CPU affinity, so
    /// <c>taskset -c 0</c> gives one loop); 1 to 1024.
    /// </summary>
    public int? IoThreads { get; set; }

    /// <summary>True when the plain TCP and Unix listeners are served by the epoll engine.</summary>
    internal bool UsesEpoll => Engine switch
    {
        ServerEngine.Epoll => true,
        ServerEngine.Auto => EchoKit.Internal.Linux.Libc.IsSupported,
        _ => false,
    };

    /// <summary>The event loops the epoll engine runs: <see cref="IoThreads"/>, or one per processor the process may use.</summary>
    public int EventLoopCount => IoThreads ?? Environment.ProcessorCount;

    /// <summary>
    /// The engine that serves a listener of <paramref name="protocol"/> with these options on this machine:
    /// <see cref="ServerEngine.Epoll"/> or <see cref="ServerEngine.Sockets"/> (never <see cref="ServerEngine.Auto"/>);
    /// null for UDP, which has receive loops of its own whatever the engine.
    /// </summary>
    public ServerEngine? EngineFor(ListenProtocol protocol) => protocol switch
    {
        ListenProtocol.Tcp or ListenProtocol.Unix => UsesEpoll ? ServerEngine.Epoll : ServerEngine.Sockets,
        ListenProtocol.Tls => ServerEngine.Sockets,
        _ => null,
    };

    /// <summary>Certificate and handshake timeout for TLS listeners.</summary>
    public TlsOptions Tls { get; } = new();

    /// <summary>Bounds on the PROXY protocol header, for listeners with <see cref="ListenEndpoint.UseProxyProtocol"/>.</summary>
    public ProxyProtocol.ProxyProtocolOptions ProxyProtocol { get; } = new();

    /// <summary>Settings of the UDP listeners: receive loops, socket buffers, deny list, rate limit.</summary>
    public UdpOptions Udp { get; } = new();

    /// <summary>The reflect service's listeners and bounds (docs/reflect.md); none by default.</summary>
    public Reflect.ReflectOptions Reflect { get; } = new();

    /// <summary>
    /// The epoll engine splices bulk reads only for clients on other machines: one on this machine (a Unix socket, a
    /// loopback address, or the server's own address) gets copies, because splicing then moves work to it rather than
    /// saving any (docs/architecture.md). True splices everyone's, so that tests on loopback run the splice path.
    /// </summary>
    internal bool SpliceOnHostClients { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Backlog is < 1 or > 65535)
        {
            throw new ArgumentException($"backlog must be from 1 to 65535, not {Backlog}", nameof(Backlog));
        }
        if (ReceiveBufferSize is < 1024 or > 16 * 1024 * 1024)
        {
            throw new ArgumentException($"receive buffer size must be from 1024 to 16777216 bytes, not {ReceiveBufferSize}", nameof(ReceiveBufferSize));
        }
        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > EchoKit.Internal.TimerLimits.Longest)
        {
            throw new ArgumentException($"shutdown timeout must be from 0 to 24 days, not {ShutdownTimeout}", nameof(ShutdownTimeout));
        }
        if (!Enum.IsDefined(Dump))
        {
            throw new ArgumentException($"unknown dump mode {Dump}", nameof(Dump));
        }
        if (!Enum.IsDefined(Engine))
        {
            throw new ArgumentException($"unknown engine {Engine}", nameof(Engine));
        }
        if (IoThreads is < 1 or > 1024)
        {
            throw new ArgumentException($"I/O threads must be from 1 to 1024, not {IoThreads}", nameof(IoThreads));
        }
        if (Engine == ServerEngine.Epoll && !EchoKit.Internal.Linux.Libc.IsSupported)
        {
            throw new ArgumentException("the epoll engine needs 64-bit Linux (x64 or arm64)", nameof(Engine));
        }
        if (Engine == ServerEngine.Epoll && Endpoints.Count > 0 && Endpoints.All(e => e.Protocol is ListenProtocol.Tls or ListenProtocol.Udp))
        {
            throw new ArgumentException("the epoll engine serves TCP and Unix listeners only, and none is given (TLS listeners use sockets; UDP has receive loops of its own)", nameof(Engine));
        }
        Internal.ProductionOptionsValidator.Validate(this);
        Udp.Validate();
        Reflect.Validate();
        Internal.ListenerOverlap.Validate(this);
    }
}
