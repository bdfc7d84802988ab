using System.Net;
using System.Net.Sockets;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Udp;

/// <summary>
/// The UDP client against hand-made servers: lossy, silent, lying, and with a stranger sending junk. Every exchange
/// runs on a fake clock: a try times out only when the test moves the clock past it, never because the machine is busy.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class UdpExchangeTests
{
    private static readonly UdpExchangeOptions Quick = new() { Timeout = TimeSpan.FromMilliseconds(300), Retries = 2 };

    private static EndpointSpec Spec(IPEndPoint address) => EndpointParser.Parse($"127.0.0.1:{address.Port}");

    /// <summary>An exchange on a clock that never moves unless the test moves it: no try times out on its own.</summary>
    private static Task<UdpExchangeResult> RunAsync(IPEndPoint address, byte[] payload, TimeProvider? time = null) =>
        UdpExchange.RunAsync(Spec(address), payload, Quick, time ?? new FakeTimeProvider(), TestTimeouts.Token());

    [Fact]
    public async Task ClientSucceedsOnRetryWhenTheFirstDatagramIsLost()
    {
        await using var server = MisbehavingUdpServer.Custom(static (n, data, _) => n == 1 ? null : data);
        var time = new TimerSignalingTimeProvider(Quick.Timeout);

        var exchange = RunAsync(server.EndPoint, "hello"u8.ToArray(), time);
        await time.WhenStartedAsync(1);
        time.Fake.Advance(Quick.Timeout);
        var result = await exchange;

        Assert.True(result.Success, result.Message);
        Assert.Equal(2, result.Tries);
        Assert.Equal("hello"u8.ToArray(), result.Reply.ToArray());
        // The server counts a datagram once it has answered it, so the count may trail the answer by a moment.
        await TestTimeouts.WaitUntilAsync(() => server.Received == 2, "the server to count both tries");
    }

    [Fact]
    public async Task ClientGivesUpAfterEveryTryAgainstASilentServer()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, _, _) => null);
        var time = new TimerSignalingTimeProvider(Quick.Timeout);

        var exchange = RunAsync(server.EndPoint, "anyone?"u8.ToArray(), time);
        for (var tries = 1; tries <= 3; tries++)
        {
            await time.WhenStartedAsync(tries);
            Assert.False(exchange.IsCompleted, $"gave up before try {tries} timed out");
            time.Fake.Advance(Quick.Timeout);
        }
        var result = await exchange;

        Assert.Equal(ExchangeOutcome.TimedOut, result.Outcome);
        Assert.Equal("no reply after 3 tries", result.Message);
        Assert.Equal(3, result.Tries);
        await TestTimeouts.WaitUntilAsync(() => server.Received == 3, "the server to see all three tries");
    }

    [Fact]
    public async Task ClientIgnoresDatagramsFromOtherSources()
    {
        using var stranger = new UdpTestClient();
        await using var server = MisbehavingUdpServer.Custom((_, data, client) =>
        {
            // Someone else answers first, with the wrong bytes; then the server answers.
            stranger.Socket.SendTo("forged"u8, SocketFlags.None, client);
            return data;
        });

        var result = await RunAsync(server.EndPoint, "genuine"u8.ToArray());

        Assert.True(result.Success, result.Message);
        Assert.Equal(1, result.Tries);
        Assert.Equal("genuine"u8.ToArray(), result.Reply.ToArray());
    }

    [Fact]
    public async Task ClientReportsTheFirstDifferingByte()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, data, _) =>
        {
            var copy = data.ToArray();
            copy[3] ^= 0xFF;
            return copy;
        });

        var result = await RunAsync(server.EndPoint, "abcdefgh"u8.ToArray());

        Assert.Equal(ExchangeOutcome.Mismatch, result.Outcome);
        Assert.Equal("mismatch at byte 3", result.Message);
        Assert.Equal(3, result.MismatchOffset);
    }

    [Fact]
    public async Task ClientReportsAShortAnswerAsAMismatchWhereItEnds()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, data, _) => data[..4]);

        var result = await RunAsync(server.EndPoint, "abcdefgh"u8.ToArray());

        Assert.Equal("mismatch at byte 4", result.Message);
    }

    [Fact]
    public async Task ClientRefusesADatagramOverTheIPv4Maximum()
    {
        await using var server = MisbehavingUdpServer.Custom(static (_, data, _) => data);

        var result = await RunAsync(server.EndPoint, new byte[UdpOptions.MaxIPv4Datagram + 1]);

        Assert.Equal(ExchangeOutcome.Failed, result.Outcome);
        Assert.Contains("65507", result.Message);
        Assert.Equal(0, server.Received);
    }

    [Fact]
    public async Task ClientEchoesTheLargestDatagramsThroughTheServer()
    {
        await using var server = await TestServer.StartUdpAsync(endpoints: ":0");
        var port = server.EndPoint.Port;

        var v4 = await UdpExchange.RunAsync(EndpointParser.Parse($"127.0.0.1:{port}"), UdpEchoTests.Pattern(UdpOptions.MaxIPv4Datagram), Quick, new FakeTimeProvider(), TestTimeouts.Token());
        var v6 = await UdpExchange.RunAsync(EndpointParser.Parse($"[::1]:{port}"), UdpEchoTests.Pattern(UdpOptions.MaxIPv6Datagram), Quick, new FakeTimeProvider(), TestTimeouts.Token());

        Assert.True(v4.Success, v4.Message);
        Assert.True(v6.Success, v6.Message);
    }
}
