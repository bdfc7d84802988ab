using System.Net.Security;

namespace EchoKit.Server.Internal;

/// <summary>One stream listener's settings (TCP, TLS or Unix), as its connections see them.</summary>
internal sealed class StreamListenerContext(ServerContext server, string uri, bool isUnix, bool useProxyProtocol, SslServerAuthenticationOptions? tls, EpollEngine? epoll = null)
{
    public ServerContext Server { get; } = server;

    /// <summary>The listener's URI, carried by every event.</summary>
    public string Uri { get; } = uri;

    public bool IsUnix { get; } = isUnix;

    public bool UseProxyProtocol { get; } = useProxyProtocol;

    /// <summary>Null for plain listeners. Shared by all its handshakes (it is never changed after start).</summary>
    public SslServerAuthenticationOptions? Tls { get; } = tls;

    /// <summary>The epoll engine serving this listener's connections; null when System.Net.Sockets serves them.</summary>
    public EpollEngine? Epoll { get; } = epoll;

    /// <summary>The engine's name ("epoll" or "sockets").</summary>
    public string EngineName => Epoll is null ? "sockets" : "epoll";

    public RejectionCounters Rejections { get; } = new();

    /// <summary>This listener's metrics (connections, bytes, rejections, TLS failures).</summary>
    public ListenerMetrics Metrics { get; } = server.Instruments.ForListener(uri);

    /// <summary>Counts a refusal on this listener and on the server.</summary>
    public void CountRejection(ConnectionRejectReason reason)
    {
        Rejections.Increment(reason);
        Server.Rejections.Increment(reason);
        Metrics.ConnectionRejected(reason.ToLabel());
    }
}
