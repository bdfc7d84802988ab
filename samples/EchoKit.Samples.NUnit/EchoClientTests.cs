using System.Net.Sockets;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Testing;

namespace EchoKit.Samples.NUnit;

[TestFixture]
public sealed class EchoClientTests
{
    private static readonly byte[] Payload = "Hello, world"u8.ToArray();

    private static Task<ExchangeResult> ExchangeAsync(string endpoint) =>
        EchoExchange.RunAsync(EndpointParser.Parse(endpoint), new MemoryStream(Payload), null, new ExchangeOptions(), null, CancellationToken.None);

    [Test]
    public async Task AnEchoServerSendsBackEveryByte()
    {
        await using var echo = await EchoTestServer.StartAsync();

        var result = await ExchangeAsync(echo.EndPoint.ToString());

        Assert.That(result.Outcome, Is.EqualTo(ExchangeOutcome.Matched));
    }

    [Test]
    public async Task AClientNoticesAServerThatClosesEarly()
    {
        await using var server = MisbehavingTcpServer.ClosingAfter(5);

        var result = await ExchangeAsync(server.EndPoint.ToString());

        Assert.That(result.Outcome, Is.AnyOf(ExchangeOutcome.ClosedEarly, ExchangeOutcome.Reset));
        Assert.That(result.BytesReceived, Is.EqualTo(5));
    }

    [Test]
    public async Task DatagramsALossyNetworkDropsAreCounted()
    {
        await using var server = MisbehavingUdpServer.Dropping(every: 2);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(server.EndPoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await client.SendAsync(new byte[] { 1 }, SocketFlags.None);
        await client.SendAsync(new byte[] { 2 }, SocketFlags.None);
        await client.SendAsync(new byte[] { 3 }, SocketFlags.None);
        var buffer = new byte[1];
        await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        Assert.That(buffer[0], Is.EqualTo(1));
        await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        Assert.That(buffer[0], Is.EqualTo(3));
        Assert.That(server.Dropped, Is.EqualTo(1));
    }
}
