using System.Net;
using System.Net.Sockets;
using EchoKit.Cli.Output;
using EchoKit.Endpoints;
using EchoKit.Probe;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Functional")]
public sealed class LbProbeTests
{
    [Fact]
    public async Task LbProbeEscapesAnInstanceNameOnceAsProbeNatDoes()
    {
        // A hostile "reflect server" whose instance name carries a terminal escape; the real server refuses such names.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var serve = Task.Run(async () =>
        {
            using var connection = await listener.AcceptAsync(TestTimeouts.Token());
            for (var i = 0; i < 2; i++)
            {
                await ReflectServiceTests.ReadLineAsync(connection);
                await connection.SendAsync("{\"v\":1,\"instance\":\"ev\\u001b[2J\"}\n"u8.ToArray(), SocketFlags.None);
            }
        });

        var result = await LbProbe.RunAsync(EndpointParser.Parse($"127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}"), 1, udp: false, TestTimeouts.Default, TestTimeouts.Token());
        await serve;

        Assert.Equal("ev\u001b[2J", Assert.Single(result.Instances).Key);
        Assert.StartsWith(@"ev\x1b[2J: 1 (100%)", ProbeText.Lb(result));
    }
}
