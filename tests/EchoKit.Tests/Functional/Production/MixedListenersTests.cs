using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Functional")]
public sealed class MixedListenersTests
{
    [Fact]
    public async Task OneServerEchoesOnTcpTlsAndUnixAtOnceUnderOneLimit()
    {
        using var certificates = new TestCertificates();
        var path = TestServer.UnixPath();
        try
        {
            var logs = TestServer.Logs();
            var options = new EchoServerOptions { MaxConnections = 3 };
            options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
            options.Endpoints.Add(ListenEndpoint.Tls("[::1]:0"));
            options.Endpoints.Add(ListenEndpoint.Unix(path));
            options.Tls.Certificate = certificates.Load();
            await using var server = await TestServer.StartServerAsync(options, logs);
            Assert.Equal([ListenProtocol.Tcp, ListenProtocol.Tls, ListenProtocol.Unix], server.Listeners.Select(l => l.Protocol));

            using var tcp = await TestClients.ConnectAsync(server.Listeners[0]);
            await using var tls = await TestClients.ConnectTlsAsync(server.Listeners[1].EndPoint);
            using var unix = await TestClients.ConnectAsync(server.Listeners[2].EndPoint);
            Assert.Equal("tcp"u8.ToArray(), await TestClients.EchoAsync(tcp, "tcp"u8.ToArray()));
            Assert.Equal("tls"u8.ToArray(), await TestClients.EchoAsync(tls, "tls"u8.ToArray()));
            Assert.Equal("unix"u8.ToArray(), await TestClients.EchoAsync(unix, "unix"u8.ToArray()));

            // The limit spans every listener: a fourth connection anywhere is refused.
            using var fourth = await TestClients.ConnectAsync(server.Listeners[2].EndPoint);
            Assert.True(await TestClients.ClosedWithoutDataAsync(fourth));
            Assert.Equal(1, server.Rejections.MaxConnections);
            Assert.Equal(1, server.ListenerRejections[server.Listeners[2].Uri].MaxConnections);
            Assert.Equal(0, server.ListenerRejections[server.Listeners[0].Uri].MaxConnections);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
