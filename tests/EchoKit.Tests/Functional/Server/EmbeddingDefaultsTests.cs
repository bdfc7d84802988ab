using System.Net;
using EchoKit.Server;

namespace EchoKit.Tests.Server;

/// <summary>Defaults safe for a library: nothing public is opened unless asked for.</summary>
[Trait("Kind", "Functional")]
public sealed class EmbeddingDefaultsTests
{
    [Fact]
    public async Task ServerWithNoEndpointListensOnLoopbackWithAnEphemeralPort()
    {
        await using var server = new EchoServer(new EchoServerOptions());

        await server.StartAsync();

        var listener = Assert.Single(server.Listeners);
        var bound = Assert.IsType<IPEndPoint>(listener.EndPoint);
        Assert.Equal(IPAddress.Loopback, bound.Address);
        Assert.NotEqual(EchoServerOptions.DefaultPort, bound.Port);
        Assert.NotEqual(0, bound.Port);
        using var client = await EchoKit.Tests.Production.TestClients.ConnectAsync(bound);
        Assert.Equal("safe"u8.ToArray(), await EchoKit.Tests.Production.TestClients.EchoAsync(client, "safe"u8.ToArray()));
    }
}
