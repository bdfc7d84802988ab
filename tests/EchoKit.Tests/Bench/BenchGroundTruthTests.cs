using EchoKit.Bench;
using EchoKit.Endpoints;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Bench;

/// <summary>
/// The bench's clock checked against ground truth: a server that holds every echo for exactly D, and Little's law
/// (in a closed loop, mean latency × throughput = messages in flight).
/// </summary>
public sealed class BenchGroundTruthTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task LatencyAgainstADelayingServerIsAtLeastTheDelayAndOnlyALittleAbove()
    {
        await using var server = FakeServer.Delaying(Delay);
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Connections = 4,
            Messages = 200,
            Warmup = TimeSpan.Zero,
            Workers = 1,
        }).WaitAsync(TestTimeouts.Default);

        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}");
        var delayUs = (long)Delay.TotalMicroseconds;
        // Every message waited D at the server, so no latency may be below D (the histogram's lowest equivalent
        // value of min is within its 0.1 % resolution); the median is D plus loopback and scheduling, a few ms at most.
        Assert.True(result.LatencyAt(0) >= delayUs * 999 / 1000, $"min {result.LatencyAt(0)} us is below the server's hold of {delayUs} us");
        Assert.InRange(result.LatencyAt(50)!.Value, delayUs, delayUs + 10_000);
    }

    [Fact]
    public async Task ClosedLoopAgainstADelayingServerSatisfiesLittlesLaw()
    {
        await using var server = FakeServer.Delaying(Delay);
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Connections = 3,
            Duration = TimeSpan.FromMilliseconds(800),
            Warmup = TimeSpan.FromMilliseconds(100),
            Workers = 1,
        }).WaitAsync(TestTimeouts.Default);

        Assert.True(result.Success, $"errors {result.Errors}");
        // 3 messages in flight for 0.8 s at ~20 ms each: ~120 messages. Mean latency × rate ÷ 3 must be about 1:
        // a clock that stamps late (after send) or a window that is not kept full would pull it down.
        Assert.InRange(result.LittlesLawRatio!.Value, BenchResult.LittlesLawLow, BenchResult.LittlesLawHigh);
    }

    [Fact]
    public async Task PacedRunsHaveNoLittlesLawRatio()
    {
        await using var server = await TestServers.StartEchoServerAsync();
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServers.Address(server)),
            Rate = 200,
            Duration = TimeSpan.FromMilliseconds(300),
            Warmup = TimeSpan.Zero,
        }).WaitAsync(TestTimeouts.Default);
        Assert.Null(result.LittlesLawRatio);
    }
}
