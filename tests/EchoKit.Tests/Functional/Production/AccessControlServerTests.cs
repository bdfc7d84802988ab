using System.Net;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Server.AccessControl;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class AccessControlServerTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private static IpAccessList List(string[] allow, string[] deny) => new(allow.Select(IpNetwork.Parse), deny.Select(IpNetwork.Parse));

    [Fact]
    public async Task ServerClosesADeniedClientBeforeReadingAByte()
    {
        var logs = TestServer.Logs();
        var options = TestServer.Tcp();
        options.AccessList = List([], ["127.0.0.0/8"]);
        options.Dump = DumpMode.Hex; // any byte read would be logged as Data
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);

        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        await client.SendAsync("secret"u8.ToArray());
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));

        var rejected = await logs.WaitForAsync("ConnectionRejected");
        Assert.Contains("denied", rejected.Message);
        Assert.StartsWith("127.0.0.1:", rejected.Field("Remote"));
        Assert.Equal(1, server.Rejections.Denied);
        Assert.Empty(logs.Named("ConnectionOpened"));
        Assert.Empty(logs.Named("Data"));
    }

    [Fact]
    public async Task DenyWinsOverAllowOnAConnection()
    {
        var logs = TestServer.Logs();
        var options = TestServer.Tcp();
        options.AccessList = List(["127.0.0.0/8"], ["127.0.0.1/32"]);
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));
        Assert.Equal(1, server.Rejections.Denied);
    }

    [Fact]
    public async Task AllowedClientIsEchoed()
    {
        var logs = TestServer.Logs();
        var options = TestServer.Tcp();
        options.AccessList = List(["127.0.0.1"], ["10.0.0.0/8"]);
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);
        using var client = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.Equal("ok"u8.ToArray(), await TestClients.EchoAsync(client, "ok"u8.ToArray()));
        Assert.Equal(0, server.Rejections.Total);
    }

    [Fact]
    public async Task DualStackListenerMatchesIpv4ClientsAgainstIpv4RangesAndIpv6ClientsAgainstIpv6Ranges()
    {
        Assert.True(Socket.OSSupportsIPv6, "this test needs IPv6 loopback");
        var logs = TestServer.Logs();
        var options = TestServer.Tcp(":0"); // [::] dual-stack: IPv4 clients appear as ::ffff:127.0.0.1
        options.AccessList = List(["127.0.0.1/32"], []);
        await using var server = await TestServer.StartServerAsync(Engine, options, logs);
        var port = server.Listeners[0].Port;

        using var v4 = await TestClients.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("v4"u8.ToArray(), await TestClients.EchoAsync(v4, "v4"u8.ToArray()));

        using var v6 = await TestClients.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port));
        Assert.True(await TestClients.ClosedWithoutDataAsync(v6));
        var rejected = await logs.WaitForAsync("ConnectionRejected");
        Assert.StartsWith("[::1]:", rejected.Field("Remote"));
        Assert.Equal(1, server.Rejections.Denied);
    }
}
