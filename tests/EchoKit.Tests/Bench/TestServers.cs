using EchoKit.Server;

namespace EchoKit.Tests.Bench;

/// <summary>Servers the bench tests load: EchoKit's own (a refused port is <see cref="Support.ClosedPort"/>).</summary>
internal static class TestServers
{
    public static async Task<EchoServer> StartEchoServerAsync()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        var server = new EchoServer(options);
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    public static string Address(EchoServer server) => $"127.0.0.1:{server.Listeners[0].Port}";
}
