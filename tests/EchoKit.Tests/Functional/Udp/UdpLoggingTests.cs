using EchoKit.Server;
using EchoKit.Tests.Production;
using Microsoft.Extensions.Time.Testing;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Functional")]
public sealed class UdpLoggingTests
{
    [Fact]
    public async Task CountsAreLoggedPerIntervalNeverPerDatagram()
    {
        var time = new FakeTimeProvider();
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.StatsInterval = TimeSpan.FromSeconds(30), logs, time);
        using var client = new UdpTestClient();

        for (var i = 0; i < 50; i++)
        {
            await client.ExchangeAsync(UdpEchoTests.Pattern(10, i), server.EndPoint);
        }
        var first = await logs.WaitForAsync("UdpFirstDatagram");
        time.Advance(TimeSpan.FromSeconds(30));
        var stats = await logs.WaitForAsync("UdpStats");

        Assert.Equal(client.LocalEndPoint.ToString(), first.Fields["Remote"]);
        Assert.Equal(server.Server.Listeners[0].Uri, first.Fields["Listener"]);
        Assert.Equal(50, long.Parse(stats.Field("Received"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(50, long.Parse(stats.Field("Answered"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(500, long.Parse(stats.Field("BytesReceived"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, long.Parse(stats.Field("NewSources"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(30, long.Parse(stats.Field("Seconds"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Single(logs.Named("UdpFirstDatagram"));
        Assert.Single(logs.Named("UdpStats"));
        Assert.Empty(logs.Named("UdpData"));
    }

    [Fact]
    public async Task PerSourceEventsAreRationedPerInterval()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartUdpAsync(o =>
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
                await client.ExchangeAsync([1], server.EndPoint);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        Assert.Equal(3, logs.Named("UdpFirstDatagram").Count);
        Assert.Equal(10, server.Server.UdpCounters.Snapshot().NewSources);
    }

    [Fact]
    public async Task DumpLogsEachDatagramAsHex()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartUdpAsync(o => o.Dump = DumpMode.Hex, logs);
        using var client = new UdpTestClient();

        await client.ExchangeAsync("AB"u8.ToArray(), server.EndPoint);
        var data = await logs.WaitForAsync("UdpData");

        Assert.Equal(2L, long.Parse(data.Field("Count"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("41 42", (string)data.Fields["Data"]!);
        Assert.Equal(client.LocalEndPoint.ToString(), data.Fields["Remote"]);
    }

    [Fact]
    public async Task StopLogsTheLastCounts()
    {
        var logs = TestServer.Logs();
        var server = await TestServer.StartUdpAsync(logs: logs);
        using var client = new UdpTestClient();
        await client.ExchangeAsync([1, 2, 3], server.EndPoint);

        await server.Server.StopAsync(CancellationToken.None);
        var stats = await logs.WaitForAsync("UdpStats");

        Assert.Equal(1, long.Parse(stats.Field("Received"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, long.Parse(stats.Field("Answered"), System.Globalization.CultureInfo.InvariantCulture));
        await server.DisposeAsync();
    }
}
