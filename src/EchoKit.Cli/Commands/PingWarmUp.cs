using EchoKit.Endpoints;
using EchoKit.Ping;
using EchoKit.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoKit.Cli.Commands;

/// <summary>
/// One probe of the same kind against an echo server of our own on 127.0.0.1, made and thrown away before the real
/// run, so that the first probe's time is the network's and not the runtime's. Without it the first probe carries the
/// one-time costs of its code path (JIT, the socket engine's start): on loopback `seq=1` read 2.7 to 4 ms where the
/// probes after it read 0.15 to 0.2 ms, which moved min/avg/max and mdev of every short run. Nothing of it reaches
/// the target or the output, and a warm-up that fails is ignored (the real run then pays those costs, as before).
/// </summary>
internal static class PingWarmUp
{
    public static async Task RunAsync(PingOptions real, CancellationToken cancellationToken)
    {
        try
        {
            var udp = real.Mode == PingMode.Udp;
            var options = new EchoServerOptions { Engine = ServerEngine.Sockets };
            options.Endpoints.Add(udp ? ListenEndpoint.Udp("127.0.0.1:0") : ListenEndpoint.Tcp("127.0.0.1:0"));
            await using var server = new EchoServer(options, NullLoggerFactory.Instance);
            await server.StartAsync(cancellationToken);
            var warm = new PingOptions
            {
                Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Listeners[0].Port}"),
                Mode = real.Mode,
                Size = real.Size,
                Count = 1,
                Timeout = TimeSpan.FromSeconds(1),
            };
            await new PingSession(warm).RunAsync(cancellationToken);
        }
        catch (Exception)
        {
            // Only the first probe's time is at stake: the real run goes on either way (and, stopped by a signal
            // meanwhile, ends at once with nothing sent).
        }
    }
}
