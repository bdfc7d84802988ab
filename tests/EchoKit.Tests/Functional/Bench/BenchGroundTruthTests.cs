using EchoKit.Bench;
using EchoKit.Endpoints;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Bench;

/// <summary>
/// The bench's clock checked against ground truth: a server that holds every echo for exactly D, and Little's law
/// (in a closed loop, mean latency × throughput = messages in flight).
/// They run alone (<see cref="GroundTruthCollection"/>): Little's law holds only while the generator keeps its window
/// full, which a test host busy with every other class's tests cannot promise.
/// </summary>
[Collection(nameof(GroundTruthCollection))]
[Trait("Kind", "Functional")]
public sealed class BenchGroundTruthTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task LatencyAgainstADelayingServerIsAtLeastTheDelayAndOnlyALittleAbove()
    {
        var held = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
        await using var server = FakeServers.Delaying(Delay, held);
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Connections = 4,
            Messages = 120,
            Warmup = TimeSpan.Zero,
            Workers = 1,
        }).WaitAsync(TestTimeouts.Default);

        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}");
        var delayUs = (long)Delay.TotalMicroseconds;
        // Every message waited D at the server, so no latency may be below D (the histogram's lowest equivalent
        // value of min is within its 0.1 % resolution).
        Assert.True(result.LatencyAt(0) >= delayUs * 999 / 1000, $"min {result.LatencyAt(0)} us is below the server's hold of {delayUs} us");
        Assert.True(result.LatencyAt(50) >= delayUs, $"p50 {result.LatencyAt(50)} us is below the server's hold of {delayUs} us");
        // Only a little above: the median is the server's real median hold (D plus its own lateness on a busy
        // machine, which it measured) plus loopback and the generator's wake-ups, a few ms at most.
        var heldP50 = (long)held.Select(h => h.TotalMicroseconds).Order().ElementAt(held.Count / 2);
        Assert.True(result.LatencyAt(50) <= heldP50 + 10_000, $"p50 {result.LatencyAt(50)} us is more than 10 ms above the server's median hold of {heldP50} us");
    }

    [Fact]
    public async Task AMessageCountAfterAWarmupCountsOnlyMessagesStartedInsideItsWindow()
    {
        // 4 connections, 50 ms per echo, a 120 ms warm-up: when measuring begins, 4 messages started in the warm-up
        // are still at the server. Counted, they would bring up to 50 ms from before the window into it (the window
        // of -n 10 -c 8 read Little's law 1.2-1.7). Now none of them counts, so the window, from the first counted
        // message's start to the last one's end, holds every counted latency whole.
        await using var server = FakeServers.Delaying(TimeSpan.FromMilliseconds(50));
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Connections = 4,
            Messages = 4,
            Warmup = TimeSpan.FromMilliseconds(120),
            Workers = 1,
        }).WaitAsync(TestTimeouts.Default);

        Assert.True(result.Success, $"errors {result.Errors}, mismatches {result.Mismatches}");
        Assert.Equal(4, result.Messages);
        var windowUs = result.Seconds * 1e6;
        Assert.True(windowUs >= result.LatencyAt(100) * 0.999, $"window {windowUs:0} us is shorter than a counted message's latency {result.LatencyAt(100)} us");
    }

    [Fact]
    public async Task ClosedLoopAgainstADelayingServerSatisfiesLittlesLaw()
    {
        // 100 ms per echo. What a correct generator can still lose is its own turnaround: the moments between reading
        // an echo and sending the next message, when its thread is preempted on a loaded machine. The window is then
        // briefly not full, and the ratio reads about D / (D + gap). Against 20 ms that read 0.82 once in a loop of 20
        // CI runs; against 50 ms, 0.855 once with two CI runs side by side on the 2 cores (a mean gap of about 8 ms).
        // Against 100 ms, such a gap reads 0.92 and passes. A generator that leaves its window empty for longer (waits
        // for other connections before sending, say), or a latency or a rate off by more than 10 %, still fails it.
        await using var server = FakeServers.Delaying(TimeSpan.FromMilliseconds(100));
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            Connections = 3,
            // Long, so that a pause of the test host at either edge of the window (a message started before it and
            // finished in it, or cut off at its end) moves the ratio by a few per cent, not by the 0.1 the band allows.
            Duration = TimeSpan.FromSeconds(4),
            // Long enough for the three connections to be open before measuring starts, however slow the accept.
            Warmup = TimeSpan.FromMilliseconds(500),
            Workers = 1,
        }).WaitAsync(TestTimeouts.Default);

        Assert.True(result.Success, $"errors {result.Errors}");
        // 3 messages in flight for 4 s at ~100 ms each: ~120 messages, so the window's edges (at most one message per
        // connection cut off at each end) move the ratio by about 2.5 %. Mean latency × rate ÷ 3 must be about 1:
        // a clock that stamps late or a window that is not kept full pulls it down.
        Assert.InRange(result.LittlesLawRatio!.Value, BenchResult.LittlesLawLow, BenchResult.LittlesLawHigh);
    }

    [Fact]
    public async Task PacedRunsHaveNoLittlesLawRatio()
    {
        await using var server = await TestServer.StartServerAsync(TestServer.Tcp());
        var result = await BenchRunner.RunAsync(new BenchOptions
        {
            Endpoint = EndpointParser.Parse(TestServer.Address(server)),
            Rate = 200,
            Duration = TimeSpan.FromMilliseconds(300),
            Warmup = TimeSpan.Zero,
        }).WaitAsync(TestTimeouts.Default);
        Assert.Null(result.LittlesLawRatio);
    }
}
