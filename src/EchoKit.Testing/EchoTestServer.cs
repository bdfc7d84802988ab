using System.Net;
using EchoKit.Server;

namespace EchoKit.Testing;

/// <summary>
/// A real EchoKit echo server inside the test process, on a loopback port chosen by the OS (port 0), that keeps
/// every event it logs. Dispose it to stop it: open connections are closed at once.
/// </summary>
/// <example>
/// <code>
/// await using var echo = await EchoTestServer.StartAsync();
/// using (var client = new TcpClient())
/// {
///     await client.ConnectAsync(echo.EndPoint);
///     // ... talk to it ...
/// }
/// await echo.Log.WaitForAsync("ConnectionClosed"); // logged once the client has closed
/// </code>
/// </example>
public sealed class EchoTestServer : IAsyncDisposable
{
    private readonly LogCapture _log;

    private EchoTestServer(EchoServer server, LogCapture log)
    {
        Server = server;
        _log = log;
    }

    /// <summary>The server itself: its listeners, counters and readiness.</summary>
    public EchoServer Server { get; }

    /// <summary>The first listener's address, e.g. 127.0.0.1:43121.</summary>
    /// <exception cref="InvalidOperationException">The first listener is a Unix socket; use <see cref="EchoServer.Listeners"/>.</exception>
    public IPEndPoint EndPoint => Server.Listeners[0].EndPoint as IPEndPoint
        ?? throw new InvalidOperationException($"the first listener, {Server.Listeners[0].Uri}, has no IP address");

    /// <summary>The first listener's port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The first listener as a URI, e.g. <c>tcp://127.0.0.1:43121</c>.</summary>
    public Uri Uri => new(Server.Listeners[0].Uri);

    /// <summary>Every event the server has logged, at every level.</summary>
    public LogCapture Log => _log;

    /// <summary>The events logged so far (shorthand for <c>Log.Events</c>).</summary>
    public IReadOnlyList<CapturedLogEvent> LogEvents => _log.Events;

    /// <summary>
    /// Starts a server. With no endpoint configured it listens on TCP 127.0.0.1, port 0 (never a fixed port, never
    /// every interface).
    /// </summary>
    /// <param name="configure">Changes the server's settings before it starts; endpoints added here replace the default.</param>
    /// <param name="log">Where the server's events go, exposed as <see cref="Log"/>; a new capture when omitted.</param>
    /// <param name="timeProvider">The server's clock, e.g. a fake one to drive idle and shutdown timeouts; the system clock when omitted.</param>
    /// <param name="cancellationToken">Stops a start still binding.</param>
    /// <returns>The started server.</returns>
    /// <exception cref="ListenerBindException">A configured endpoint could not be bound.</exception>
    public static Task<EchoTestServer> StartAsync(
        Action<EchoServerOptions>? configure = null,
        LogCapture? log = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        var options = new EchoServerOptions();
        configure?.Invoke(options);
        return StartWithOptionsAsync(options, log, timeProvider, cancellationToken);
    }

    /// <summary>
    /// Starts a server with settings built elsewhere (e.g. by the code under test), logging into a capture the caller
    /// may share between servers. With no endpoint configured it listens on TCP 127.0.0.1, port 0.
    /// </summary>
    /// <param name="options">The server's settings; an endpoint is added to them when they have none.</param>
    /// <param name="log">Where the server's events go, exposed as <see cref="Log"/>; a new capture when omitted.</param>
    /// <param name="timeProvider">The server's clock, e.g. a fake one to drive idle and shutdown timeouts; the system clock when omitted.</param>
    /// <param name="cancellationToken">Stops a start still binding.</param>
    /// <returns>The started server.</returns>
    /// <exception cref="ListenerBindException">A configured endpoint could not be bound.</exception>
    public static async Task<EchoTestServer> StartWithOptionsAsync(
        EchoServerOptions options,
        LogCapture? log = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        }
        log ??= new LogCapture();
        var server = new EchoServer(options, log, timeProvider);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new EchoTestServer(server, log);
    }

    /// <summary>Stops the server at once, closing open connections.</summary>
    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
