using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Faults;

/// <summary>
/// Slowloris on the PROXY header (run once per engine): clients that send it one byte per (fake) second. Trickling
/// must not extend the deadline: each is cut when the header timeout has passed since the connect, not before.
/// </summary>
[Trait("Kind", "Functional")]
public abstract class SlowlorisTests(ServerEngine engine)
{
    protected ServerEngine Engine { get; } = engine;

    [Fact]
    public async Task ProxyHeaderTrickledOneBytePerSecondIsCutAtTheHeaderTimeout()
    {
        var options = TestServer.Tcp();
        options.Engine = Engine;
        options.Endpoints[0] = options.Endpoints[0] with { UseProxyProtocol = true };
        var timeout = options.ProxyProtocol.HeaderTimeout; // the documented default, 3 s
        var logs = TestServer.Logs();

        var server = await Trickle.RunAsync(options, timeout, logs, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\n"u8.ToArray());

        Assert.Equal(Trickle.Clients, server.Rejections.ProxyHeader);
        var errors = logs.Named("ProxyHeaderRejected").Select(e => e.Field("Error")).Distinct();
        Assert.Equal(["header incomplete after 3s"], errors);
    }
}
