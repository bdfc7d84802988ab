using EchoKit.Server;
using EchoKit.Tests.Production;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Functional")]
public sealed class UdpLoggingTests
{
    [Fact]
    public async Task CountsAreLoggedPerIntervalNeverPerDatagram()
    {
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerFactory();
        await using var server = await UdpServerFixture.StartAsync(o => o.Udp.StatsInterval = TimeSpan.FromSeconds(30), logs, time);
        using var client = new UdpTestClient();

        for (var i = 0; i < 50; i++)
        {
            await client.ExchangeAsync(UdpEchoTests.Pattern(10, i), server.EndPoint());
        }
        var first = await logs.WaitForAsync("UdpFirstDatagram");
        time.Advance(TimeSpan.FromSeconds(30));
        var stats = await logs.WaitForAsync("UdpStats");

        Assert.Equal(client.LocalEndPoint.ToString(), first.Fields["Remote"]);
        Assert.Equal(server.Server.Listeners[0].Uri, first.Fields["Listener"]);
        Assert.Equal(50, stats.Long("Received"));
        Assert.Equal(50, stats.Long("Answered"));
        Assert.Equal(500, stats.Long("BytesReceived"));
        Assert.Equal(1, stats.Long("NewSources"));
        Assert.Equal(30, stats.Long("Seconds"));
        Assert.Equal(1, logs.Count("UdpFirstDatagram"));
        Assert.Equal(1, logs.Count("UdpStats"));
        Assert.Equal(0, logs.Count("UdpData"));
    }

    [Fact]
    public async Task PerSourceEventsAreRationedPerInterval()
    {
        var logs = new CapturingLoggerFactory();
        await using var server = await UdpServerFixture.StartAsync(o =>
        {
            o.Udp.ReceiveLoops = 1;
            o.Udp.MaxSourceEventsPerInterval = 3;
        }, logs, new FakeTimeProvider());

        // Ten new source addresses: only three "first datagram" lines.
        var clients = Enumerable.Range(1, 10).Select(i => new UdpTestClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse($"127.0.0.{i}"), 0))).ToArray();
        try
        {
            foreach (var client in clients)
            {
                await client.ExchangeAsync([1], server.EndPoint());
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        Assert.Equal(3, logs.Count("UdpFirstDatagram"));
        Assert.Equal(10, server.Server.UdpCounters.Snapshot().NewSources);
    }

    [Fact]
    public async Task DumpLogsEachDatagramAsHex()
    {
        var logs = new CapturingLoggerFactory();
        await using var server = await UdpServerFixture.StartAsync(o => o.Dump = DumpMode.Hex, logs);
        using var client = new UdpTestClient();

        await client.ExchangeAsync("AB"u8.ToArray(), server.EndPoint());
        var data = await logs.WaitForAsync("UdpData");

        Assert.Equal(2L, data.Long("Count"));
        Assert.Contains("41 42", (string)data.Fields["Data"]!);
        Assert.Equal(client.LocalEndPoint.ToString(), data.Fields["Remote"]);
    }

    [Fact]
    public async Task StopLogsTheLastCounts()
    {
        var logs = new CapturingLoggerFactory();
        var server = await UdpServerFixture.StartAsync(logs: logs);
        using var client = new UdpTestClient();
        await client.ExchangeAsync([1, 2, 3], server.EndPoint());

        await server.Server.StopAsync(CancellationToken.None);
        var stats = await logs.WaitForAsync("UdpStats");

        Assert.Equal(1, stats.Long("Received"));
        Assert.Equal(1, stats.Long("Answered"));
        await server.DisposeAsync();
    }
}
