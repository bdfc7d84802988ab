using System.Net;
using EchoKit.Server;
using Microsoft.Extensions.Time.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

/// <summary>The per-source rate limit, with the clock frozen so the token buckets refill only when the test says.</summary>
[Trait("Kind", "Functional")]
public sealed class UdpRateLimitTests
{
    private static readonly IPAddress OtherLoopback = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task FloodFromOneSourceIsCutToTheRateWhileAnotherSourceIsAnswered()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.RateLimit = 20;
            o.Udp.ExemptLoopbackFromRateLimit = false;
        }, time: time);
        using var flooder = new UdpTestClient();
        using var other = new UdpTestClient(new IPEndPoint(OtherLoopback, 0));

        for (var i = 0; i < 60; i++)
        {
            await flooder.SendAsync(UdpEchoTests.Pattern(16, i), server.EndPoint);
        }
        // One loop handles datagrams in order: when this answer is back, the flood has been handled.
        var (echo, _) = await other.ExchangeAsync("still here"u8.ToArray(), server.EndPoint);
        Assert.Equal("still here"u8.ToArray(), echo);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(UdpEchoTests.Pattern(16, i), (await flooder.ReceiveAsync()).Data);
        }
        Assert.Equal(0, flooder.Socket.Available);
        var counts = server.Server.UdpCounters.Snapshot();
        Assert.Equal(61, counts.DatagramsReceived);
        Assert.Equal(21, counts.DatagramsAnswered);
        Assert.Equal(40, counts.DroppedByRate);

        // A second later the bucket holds 20 tokens again.
        time.Advance(TimeSpan.FromSeconds(1));
        var (again, _) = await flooder.ExchangeAsync([7], server.EndPoint);
        Assert.Equal([7], again);
    }

    [Fact]
    public async Task LoopbackSourcesAreExemptFromTheRateLimitByDefault()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.RateLimit = 5;
        }, time: time);
        using var client = new UdpTestClient();

        for (var i = 0; i < 30; i++)
        {
            await client.SendAsync(UdpEchoTests.Pattern(8, i), server.EndPoint);
        }
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(UdpEchoTests.Pattern(8, i), (await client.ReceiveAsync()).Data);
        }
        Assert.Equal(0, server.Server.UdpCounters.DroppedByRate);
    }

    [Fact]
    public async Task RateLimitZeroAnswersEverything()
    {
        var time = new FakeTimeProvider();
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.RateLimit = 0;
            o.Udp.ExemptLoopbackFromRateLimit = false;
        }, time: time);
        using var client = new UdpTestClient();

        for (var i = 0; i < 30; i++)
        {
            await client.SendAsync(UdpEchoTests.Pattern(8, i), server.EndPoint);
        }
        for (var i = 0; i < 30; i++)
        {
            await client.ReceiveAsync();
        }
        Assert.Equal(30, server.Server.UdpCounters.DatagramsAnswered);
    }
}
