using System.Net;
using System.Net.Sockets;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

/// <summary>The UDP client against hand-made servers: lossy, silent, lying, and with a stranger sending junk.</summary>
[Trait("Kind", "Functional")]
public sealed class UdpExchangeTests
{
    private static readonly UdpExchangeOptions Quick = new() { Timeout = TimeSpan.FromMilliseconds(300), Retries = 2 };

    private static EndpointSpec Spec(IPEndPoint address) => EndpointParser.Parse($"127.0.0.1:{address.Port}");

    [Fact]
    public async Task ClientSucceedsOnRetryWhenTheFirstDatagramIsLost()
    {
        await using var server = FakeUdpServer.Start(static (n, data) => n == 1 ? null : data);

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), "hello"u8.ToArray(), Quick, null, CancellationToken.None);

        Assert.True(result.Success, result.Message);
        Assert.Equal(2, result.Tries);
        Assert.Equal("hello"u8.ToArray(), result.Reply.ToArray());
        Assert.Equal(2, server.Received);
    }

    [Fact]
    public async Task ClientGivesUpAfterEveryTryAgainstASilentServer()
    {
        await using var server = FakeUdpServer.Start(static (_, _) => null);

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), "anyone?"u8.ToArray(), Quick, null, CancellationToken.None);

        Assert.Equal(ExchangeOutcome.TimedOut, result.Outcome);
        Assert.Equal("no reply after 3 tries", result.Message);
        Assert.Equal(3, result.Tries);
        await server.WaitForReceivedAsync(3);
    }

    [Fact]
    public async Task ClientIgnoresDatagramsFromOtherSources()
    {
        using var stranger = new UdpTestClient();
        await using var server = FakeUdpServer.Start(null, async (socket, data, client) =>
        {
            // Someone else answers first, with the wrong bytes; then the server answers.
            await stranger.SendAsync("forged"u8.ToArray(), client);
            await Task.Yield();
            await socket.SendToAsync(data, SocketFlags.None, client);
        });

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), "genuine"u8.ToArray(), Quick, null, CancellationToken.None);

        Assert.True(result.Success, result.Message);
        Assert.Equal(1, result.Tries);
        Assert.Equal("genuine"u8.ToArray(), result.Reply.ToArray());
    }

    [Fact]
    public async Task ClientReportsTheFirstDifferingByte()
    {
        await using var server = FakeUdpServer.Start(static (_, data) =>
        {
            var copy = data.ToArray();
            copy[3] ^= 0xFF;
            return copy;
        });

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), "abcdefgh"u8.ToArray(), Quick, null, CancellationToken.None);

        Assert.Equal(ExchangeOutcome.Mismatch, result.Outcome);
        Assert.Equal("mismatch at byte 3", result.Message);
        Assert.Equal(3, result.MismatchOffset);
    }

    [Fact]
    public async Task ClientReportsAShortAnswerAsAMismatchWhereItEnds()
    {
        await using var server = FakeUdpServer.Start(static (_, data) => data[..4]);

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), "abcdefgh"u8.ToArray(), Quick, null, CancellationToken.None);

        Assert.Equal("mismatch at byte 4", result.Message);
    }

    [Fact]
    public async Task ClientRefusesADatagramOverTheIPv4Maximum()
    {
        await using var server = FakeUdpServer.Start(static (_, data) => data);

        var result = await UdpExchange.RunAsync(Spec(server.EndPoint), new byte[UdpOptions.MaxIPv4Datagram + 1], Quick, null, CancellationToken.None);

        Assert.Equal(ExchangeOutcome.Failed, result.Outcome);
        Assert.Contains("65507", result.Message);
        Assert.Equal(0, server.Received);
    }

    [Fact]
    public async Task ClientEchoesTheLargestDatagramsThroughTheServer()
    {
        await using var server = await TestServer.StartUdpAsync(endpoints: ":0");
        var port = server.EndPoint.Port;

        var v4 = await UdpExchange.RunAsync(EndpointParser.Parse($"127.0.0.1:{port}"), UdpEchoTests.Pattern(UdpOptions.MaxIPv4Datagram), Quick, null, CancellationToken.None);
        var v6 = await UdpExchange.RunAsync(EndpointParser.Parse($"[::1]:{port}"), UdpEchoTests.Pattern(UdpOptions.MaxIPv6Datagram), Quick, null, CancellationToken.None);

        Assert.True(v4.Success, v4.Message);
        Assert.True(v6.Success, v6.Message);
    }
}
