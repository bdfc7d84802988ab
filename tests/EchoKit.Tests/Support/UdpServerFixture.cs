using System.Net;
using EchoKit.Server;
using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Udp;

/// <summary>Starts an <see cref="EchoServer"/> with UDP listeners on port 0 for one test.</summary>
internal sealed class UdpServerFixture : IAsyncDisposable
{
    private UdpServerFixture(EchoServer server) => Server = server;

    public EchoServer Server { get; }

    public IPEndPoint EndPoint(int index = 0) => (IPEndPoint)Server.Listeners[index].EndPoint;

    /// <summary>The listener's port on an address the client can send to (the wildcard becomes loopback).</summary>
    public IPEndPoint Target(IPAddress loopback, int index = 0) => new(loopback, EndPoint(index).Port);

    public static async Task<UdpServerFixture> StartAsync(Action<EchoServerOptions>? configure = null, ILoggerFactory? logs = null, TimeProvider? time = null, params string[] endpoints)
    {
        var options = new EchoServerOptions();
        foreach (var endpoint in endpoints.Length == 0 ? ["127.0.0.1:0"] : endpoints)
        {
            options.Endpoints.Add(ListenEndpoint.Udp(endpoint));
        }
        configure?.Invoke(options);
        var server = new EchoServer(options, logs, time);
        using var cts = new CancellationTokenSource(Support.TestTimeouts.Default);
        await server.StartAsync(cts.Token);
        return new UdpServerFixture(server);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
