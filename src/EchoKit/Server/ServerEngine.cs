namespace EchoKit.Server;

/// <summary>Which I/O engine serves the plain TCP and Unix stream listeners (<see cref="EchoServerOptions.Engine"/>).</summary>
public enum ServerEngine
{
    /// <summary>The native epoll engine on 64-bit Linux (x64, arm64); System.Net.Sockets elsewhere. TLS always uses sockets.</summary>
    Auto,

    /// <summary>
    /// The native epoll engine: a few event loops, each with one receive buffer shared by its connections. Needs 64-bit
    /// Linux, and at least one TCP or Unix listener (TLS listeners are still served by sockets).
    /// </summary>
    Epoll,

    /// <summary>System.Net.Sockets: one asynchronous receive/send loop per connection.</summary>
    Sockets,
}
