using System.Diagnostics;
using System.Collections.Concurrent;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>
/// Adds the workers' per-interval samples into one sample per interval, in order, once every worker still running
/// has reported it. Workers only <see cref="Post"/> their samples (a queue write that wakes nobody, once per interval
/// each); the adding up, the percentiles and the callback run on the runner's sample thread (<see cref="PumpAsync"/>,
/// which looks just after each interval's end), never in a worker's loop. A worker that woke the runner at each
/// interval's end paid for the wake-up (about 0.5 ms the first time, at the start of measuring) in the middle of its
/// loop; a runner that looked every 100 ms through the thread pool woke it ten times a second, and its spinning after
/// each wake made ten times the <c>sched_yield</c> calls (4,918 against 525 in 3 s of a one-connection run). It keeps
/// no histogram longer than an interval, so a long run costs no memory per second beyond the few numbers of its
/// timeline.
/// </summary>
internal sealed class SampleAggregator(BenchRun run, Action<BenchSample>? onSample)
{
    /// <summary>How long after an interval's end <see cref="PumpAsync"/> looks: time for a busy worker to have posted.</summary>
    private static readonly long GraceTicks = Stopwatch.Frequency / 100; // 10 ms

    /// <summary>How soon it looks again while an interval that has ended still waits for a worker's sample.</summary>
    private static readonly long RetryTicks = Stopwatch.Frequency / 20; // 50 ms

    private readonly ConcurrentQueue<WorkerSample> _posted = new();
    private readonly ManualResetEventSlim _completed = new(initialState: false, spinCount: 0);
    private readonly SortedDictionary<long, Pending> _pending = [];
    private readonly long[] _finalIndex = Enumerable.Repeat(long.MaxValue, run.Workers).ToArray();
    private readonly List<BenchSample> _timeline = [];

    /// <summary>The measured intervals, in order. Read it once <see cref="PumpAsync"/> has finished.</summary>
    public IReadOnlyList<BenchSample> Timeline => _timeline;

    /// <summary>
    /// Runs the work of an interval's end, and of the start of measuring, once, on throwaway workers of a throwaway run,
    /// before the run's clock starts, so that none of it is compiled for the first time while the clock runs (the
    /// first interval ends at the moment measuring starts; compiling the workers' bookkeeping there stalled a
    /// one-connection <c>-n 100</c> run for about 3 ms of its 6 ms, docs/bench.md), and the runner's sample thread is not
    /// compiling HdrHistogram's percentile code beside the workers as they start to count.
    /// </summary>
    public static void Prime(BenchOptions options, System.Net.EndPoint target)
    {
        var run = new BenchRun(options, target, Stopwatch.GetTimestamp());
        var aggregator = new SampleAggregator(run, onSample: null);
        run.Aggregator = aggregator;
        for (var worker = 0; worker < run.Workers; worker++)
        {
            new RehearsalWorker(worker, run).Rehearse();
        }
        aggregator.AddPosted();
        _ = Environment.CpuUsage; // read as measuring starts (BenchRun.NoteMeasureStart)
    }

    /// <summary>A worker that never runs: only <see cref="BenchWorker.Rehearse"/> is called on it.</summary>
    private sealed class RehearsalWorker(int id, BenchRun run) : BenchWorker(id, run)
    {
        public override Task RunAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>Queues a worker's sample for the runner's sample thread; any thread, never blocks, wakes nobody.</summary>
    public void Post(WorkerSample sample) => _posted.Enqueue(sample);

    /// <summary>No more samples: <see cref="PumpAsync"/> ends once it has added up those already posted.</summary>
    public void Complete() => _completed.Set();

    /// <summary>
    /// Adds up the posted samples just after each interval's end (sooner again while an ended interval still waits for
    /// a worker's sample) until <see cref="Complete"/>, then what is left; call it once. It runs on a thread of its own
    /// that sleeps between looks without spinning: woken through the thread pool instead (once a second), the pool's
    /// worker spun (<c>sched_yield</c>) for a while after each look, on a machine whose cores the server and the workers
    /// need: 397 calls in 3 s of a one-connection run, against 132 on this thread.
    /// </summary>
    public Task PumpAsync() => DedicatedThread.Run("echokit-bench-samples", () =>
    {
        while (!_completed.IsSet)
        {
            var now = Stopwatch.GetTimestamp();
            _completed.Wait(TimeSpan.FromSeconds((double)(NextLook(now) - now) / Stopwatch.Frequency));
            AddPosted();
        }
        AddPosted(); // an onSample callback's fault faults the task, which the runner awaits
    });

    /// <summary>When to look next: shortly, if an interval that has ended is still incomplete; else just after the running one ends.</summary>
    private long NextLook(long now)
    {
        var index = run.SampleIndex(now);
        if (_pending.Count > 0 && _pending.First().Key < index)
        {
            return now + RetryTicks;
        }
        return run.MeasureTicks + (index + 1) * run.SampleTicks + GraceTicks;
    }

    private void AddPosted()
    {
        while (_posted.TryDequeue(out var sample))
        {
            Add(sample);
        }
    }

    private void Add(WorkerSample sample)
    {
        if (!_pending.TryGetValue(sample.Index, out var pending))
        {
            pending = new Pending(run.RentHistogram());
            _pending.Add(sample.Index, pending);
        }
        sample.Latencies.AddTo(pending.Histogram);
        run.ReturnRecorder(sample.Latencies);
        pending.Messages += sample.Messages;
        pending.Bytes += sample.Bytes;
        pending.Errors += sample.Errors;
        pending.Reported++;
        pending.EndTicks = Math.Max(pending.EndTicks, sample.EndTicks);
        if (sample.Final)
        {
            _finalIndex[sample.Worker] = sample.Index;
        }
        EmitComplete();
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
