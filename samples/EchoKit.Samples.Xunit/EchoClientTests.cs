using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Testing;

namespace EchoKit.Samples.Xunit;

public sealed class EchoClientTests
{
    private static readonly byte[] Payload = "Hello, world"u8.ToArray();

    private static Task<ExchangeResult> ExchangeAsync(string endpoint) =>
        EchoExchange.RunAsync(EndpointParser.Parse(endpoint), new MemoryStream(Payload), null, new ExchangeOptions(), null, CancellationToken.None);

    [Fact]
    public async Task AnEchoServerSendsBackEveryByte()
    {
        await using var echo = await EchoTestServer.StartAsync();

        var result = await ExchangeAsync(echo.EndPoint.ToString());

        Assert.Equal(ExchangeOutcome.Matched, result.Outcome);
        Assert.Equal(Payload.Length, result.BytesReceived);
        await echo.Log.WaitForAsync("ConnectionClosed");
    }

    [Fact]
    public async Task AClientNoticesTheByteAServerCorrupted()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(7);

        var result = await ExchangeAsync(server.EndPoint.ToString());

        Assert.Equal(ExchangeOutcome.Mismatch, result.Outcome);
        Assert.Equal(7, result.MismatchOffset);
    }
}
