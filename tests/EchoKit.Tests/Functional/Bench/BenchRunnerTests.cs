using EchoKit.Bench;
using EchoKit.Endpoints;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Bench;

/// <summary>The load generator run in-process (<c>BenchRunner</c>) against servers on loopback; its CLI is <c>BenchRunTests</c>.</summary>
[Trait("Kind", "Functional")]
public sealed class BenchRunnerTests
{
    [Fact]
    public async Task BenchAgainstEchoServerCompletesExactlyTheMessagesAskedFor()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Connections = 4,
            Pipeline = 3, // not a power of two: the send-time ring is rounded up
            Size = 100,
            Messages = 3000,
            Warmup = TimeSpan.Zero,
            Workers = 2,
        });
        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}");
        Assert.Equal(3000, result.Messages);
        Assert.Equal(3000 * 100, result.Bytes);
        Assert.Equal(3000, result.Latency.TotalCount);
        Assert.Equal(4, result.ConnectTime.TotalCount);
        Assert.True(result.Seconds > 0);
        Assert.True(result.LatencyAt(50) > 0);
    }

    [Fact]
    public async Task TwoWorkersAfterAWarmupCountExactlyTheMessagesAskedFor()
    {
        // The workers take their messages from one shared budget; what the warm-up launched and completed is not
        // counted, and its share goes back to the worker that took it.
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Connections = 6,
            Pipeline = 4,
            Size = 32,
            Messages = 5000,
            Warmup = TimeSpan.FromMilliseconds(200),
            Workers = 2,
        });
        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}");
        Assert.Equal(5000, result.Messages);
        Assert.Equal(5000, result.Latency.TotalCount);
    }

    [Fact]
    public async Task MessageCountRunEndsAsStalledWhenNothingCompletes()
    {
        await using var server = FakeServers.Silent();
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Messages = 100,
            Warmup = TimeSpan.Zero,
            StallTimeout = TimeSpan.FromMilliseconds(500),
        }).WaitAsync(TestTimeouts.Default);
        Assert.False(result.Success);
        Assert.Equal(0, result.Messages);
        Assert.Equal(1, result.ErrorsByReason[BenchRunner.StalledReason]);
    }
}
