using System.Diagnostics;
using System.Threading.Channels;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>
/// Adds the workers' per-interval samples into one sample per interval, in order, once every worker still running
/// has reported it. Workers call <see cref="Add"/> once per interval each, under its lock; finished samples go to
/// the callback (which must not block: the runner's is a channel write). It keeps no histogram longer than an
/// interval, so a long run costs no memory per second beyond the few numbers of its timeline.
/// </summary>
internal sealed class SampleAggregator(BenchRun run, Action<BenchSample>? onSample)
{
    private readonly SortedDictionary<long, Pending> _pending = [];
    private readonly long[] _finalIndex = Enumerable.Repeat(long.MaxValue, run.Workers).ToArray();
    private readonly List<BenchSample> _timeline = [];

    /// <summary>The measured intervals, in order. Read it after every worker stopped.</summary>
    public IReadOnlyList<BenchSample> Timeline => _timeline;

    private readonly object _lock = new();

    /// <summary>
    /// Runs the work of one interval once, on a throwaway sample, before the run's clock starts. The first interval
    /// ends at the moment measuring starts, inside a worker's loop, and its first-time costs (JIT of HdrHistogram's
    /// percentile code, the sorted dictionary, the channel; 15 to 25 ms on a 2-core machine) then stalled that
    /// worker: the message in flight read as a 20 ms latency, or the first messages started 20 ms late.
    /// </summary>
    public static void Prime(BenchOptions options, System.Net.EndPoint target)
    {
        var run = new BenchRun(options, target, Stopwatch.GetTimestamp());
        var channel = Channel.CreateUnbounded<BenchSample>(new UnboundedChannelOptions { SingleReader = true });
        var aggregator = new SampleAggregator(run, sample => channel.Writer.TryWrite(sample));
        var recorder = new LatencyRecorder();
        recorder.Record(1);
        for (var worker = 0; worker < run.Workers; worker++)
        {
            var histogram = run.RentHistogram();
            recorder.AddTo(histogram);
            aggregator.Add(new WorkerSample
            {
                Worker = worker, Index = -1, Final = false, EndTicks = run.MeasureTicks, Messages = 1, Bytes = 1, Errors = 0, Histogram = histogram,
            });
        }
        recorder.Reset();
        _ = Environment.CpuUsage; // read as measuring starts (BenchRun.NoteMeasureStart)
    }

    public void Add(WorkerSample sample)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(sample.Index, out var pending))
            {
                pending = new Pending(run.RentHistogram());
                _pending.Add(sample.Index, pending);
            }
            pending.Histogram.Add(sample.Histogram);
            pending.Messages += sample.Messages;
            pending.Bytes += sample.Bytes;
            pending.Errors += sample.Errors;
            pending.Reported++;
            pending.EndTicks = Math.Max(pending.EndTicks, sample.EndTicks);
            run.ReturnHistogram(sample.Histogram);
            if (sample.Final)
            {
                _finalIndex[sample.Worker] = sample.Index;
            }
            EmitComplete();
        }
    }

    private void EmitComplete()
    {
        while (_pending.Count > 0)
        {
            var (index, pending) = _pending.First();
            var expected = _finalIndex.Count(final => final >= index);
            if (pending.Reported < expected)
            {
                return;
            }
            _pending.Remove(index);
            Emit(index, pending);
        }
    }

    private void Emit(long index, Pending pending)
    {
        var start = run.MeasureTicks + index * run.SampleTicks;
        var seconds = Math.Clamp((double)(pending.EndTicks - start) / Stopwatch.Frequency, 0, (double)run.SampleTicks / Stopwatch.Frequency);
        var histogram = pending.Histogram;
        var any = histogram.TotalCount > 0;
        var sample = new BenchSample(
            index,
            (double)(start - run.MeasureTicks) / Stopwatch.Frequency + seconds,
            seconds,
            pending.Messages,
            pending.Bytes,
            any ? histogram.GetValueAtPercentile(50) : null,
            any ? histogram.GetValueAtPercentile(99) : null,
            any ? histogram.GetMaxValue() : null,
            pending.Errors);
        run.ReturnHistogram(histogram);
        if (index >= 0 && seconds > 0)
        {
            _timeline.Add(sample);
        }
        onSample?.Invoke(sample);
    }

    private sealed class Pending(LongHistogram histogram)
    {
        public LongHistogram Histogram { get; } = histogram;

        public long Messages;
        public long Bytes;
        public long Errors;
        public int Reported;
        public long EndTicks;
    }
}
