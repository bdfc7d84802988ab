using System.Diagnostics;
using System.Net;
using EchoKit.Bench;
using EchoKit.Bench.Internal;

namespace EchoKit.Tests.Bench;

/// <summary>
/// Workers only post their interval samples; the adding up happens on the runner's task. So an interval's end (the
/// first of which is the start of measuring) costs a worker's loop a queue write, not HdrHistogram's work.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class SampleAggregatorTests
{
    private static BenchRun NewRun(int workers) =>
        new(new BenchOptions { Connections = workers, Workers = workers, Warmup = TimeSpan.Zero }, new IPEndPoint(IPAddress.Loopback, 9), Stopwatch.GetTimestamp());

    private static WorkerSample Sample(BenchRun run, int worker, long index, bool final, params long[] latencies)
    {
        var recorder = run.RentRecorder();
        foreach (var latency in latencies)
        {
            recorder.Record(latency);
        }
        return new WorkerSample
        {
            Worker = worker, Index = index, Final = final, EndTicks = run.MeasureTicks + (index + 1) * run.SampleTicks,
            Messages = latencies.Length, Bytes = 32L * latencies.Length, Errors = 0, Latencies = recorder,
        };
    }

    [Fact]
    public async Task PostedSamplesAreAddedUpOnlyByThePumpPerIntervalAndInOrder()
    {
        var run = NewRun(workers: 2);
        var emitted = new List<BenchSample>();
        var aggregator = new SampleAggregator(run, emitted.Add);

        aggregator.Post(Sample(run, worker: 1, index: 1, final: true, 40));
        aggregator.Post(Sample(run, worker: 0, index: 0, final: false, 10, 20));
        aggregator.Post(Sample(run, worker: 1, index: 0, final: false, 30));
        aggregator.Post(Sample(run, worker: 0, index: 1, final: true, 50, 60, 70));
        Assert.Empty(emitted); // posting did none of the work

        aggregator.Complete();
        await aggregator.PumpAsync();

        Assert.Equal([0L, 1L], emitted.Select(s => s.Index));
        Assert.Equal([3L, 4L], emitted.Select(s => s.Messages));
        Assert.Equal([96L, 128L], emitted.Select(s => s.Bytes));
        Assert.Equal(30, emitted[0].MaxMicroseconds);
        Assert.Equal(70, emitted[1].MaxMicroseconds);
        Assert.Equal(2, aggregator.Timeline.Count);
    }

    [Fact]
    public async Task RecordersComeBackToThePoolEmptied()
    {
        var run = NewRun(workers: 1);
        var aggregator = new SampleAggregator(run, onSample: null);
        var sample = Sample(run, worker: 0, index: 0, final: true, 5, 6, 7);

        aggregator.Post(sample);
        aggregator.Complete();
        await aggregator.PumpAsync();

        var again = run.RentRecorder();
        Assert.Same(sample.Latencies, again);
        Assert.Equal(0, again.TotalCount);
    }
}
