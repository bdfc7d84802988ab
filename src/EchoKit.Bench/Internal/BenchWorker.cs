using System.Diagnostics;
using System.Runtime.CompilerServices;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>
/// One worker loop's bookkeeping: its own histograms (no sharing, no locks on the hot path), counters, errors by
/// reason, and the per-interval samples it hands to the runner. The runner adds the workers' histograms at the end.
/// </summary>
internal abstract class BenchWorker
{
    private long _sampleIndex;
    private long _sampleEnd;
    private long _sampleMessages;
    private long _sampleBytes;
    private long _sampleErrors;
    private LatencyRecorder _interval = new();
    private readonly LatencyRecorder _measured = new();

    protected BenchWorker(int id, BenchRun run)
    {
        Id = id;
        Run = run;
        Counted = run.Budget is not null;
        _sampleIndex = run.SampleIndex(run.StartTicks);
        _sampleEnd = run.MeasureTicks + (_sampleIndex + 1) * run.SampleTicks;
    }

    public int Id { get; }

    protected BenchRun Run { get; }

    /// <summary>Latency of every measured message, µs; filled when the worker stops.</summary>
    public LongHistogram Latency { get; } = LatencyHistograms.Create();

    /// <summary>Time to establish each connection, µs (all of them, warm-up included).</summary>
    public LongHistogram ConnectTime { get; } = LatencyHistograms.Create();

    public long Messages { get; protected set; }

    public long Bytes { get; protected set; }

    public long Mismatches { get; protected set; }

    public long[] Errors { get; } = new long[BenchErrors.Count];

    /// <summary>When this worker recorded its last measured message (message-count mode ends there).</summary>
    public long LastRecordTicks { get; protected set; }

    /// <summary>
    /// The earliest start (sent, or due at a fixed rate) of a message this worker counted; long.MaxValue until one is
    /// recorded. Message-count mode begins its window there, if that is after measuring began.
    /// </summary>
    public long FirstRecordStartTicks { get; private set; } = long.MaxValue;

    /// <summary>Message-count mode: this worker stopped because nothing completed for the stall timeout.</summary>
    public bool Stalled { get; protected set; }

    /// <summary>When this worker stopped.</summary>
    public long StopTicks { get; protected set; }

    public long UdpSent { get; protected set; }

    public long UdpLost { get; protected set; }

    public long UdpDuplicated { get; protected set; }

    public long UdpReordered { get; protected set; }

    public long UdpLate { get; protected set; }

    /// <summary>Runs the worker to its end; never faults for network errors (they are counted).</summary>
    public abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Message-count mode (TCP, UDP): messages come from the run's budget (<see cref="TakeMessages"/>).</summary>
    protected bool Counted { get; }

    /// <summary>Message-count mode (TCP, UDP): messages taken from the run's budget so far, counted or not yet.</summary>
    protected long Allowance { get; private set; }

    /// <summary>
    /// Message-count mode: the count this worker is held to, for its end and the stall check. While the run's budget
    /// (<see cref="MessageBudget"/>) still has messages, more than the worker can reach (it takes more as it goes); once
    /// it is empty, what the worker took. <see cref="long.MaxValue"/> when the run is timed.
    /// </summary>
    protected long Quota
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Run.Budget is not { } budget ? long.MaxValue : budget.IsEmpty ? Allowance : long.MaxValue - 1;
    }

    /// <summary>
    /// Takes at least <paramref name="least"/> more messages from the run's budget (fewer once it runs out); returns how
    /// many. Compiled optimised at once, as everything a worker calls while measuring must be: a method left to tiering
    /// is recompiled in the middle of the window, and that alone cost a one-connection <c>-n 100</c> run 1.5–2 % of its
    /// rate (Little's law 0.97 against 0.99, alternating pairs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected long TakeMessages(long least)
    {
        var taken = Run.Budget!.Take(least);
        Allowance += taken;
        return taken;
    }

    /// <summary>True while a message completing at <paramref name="now"/> counts.</summary>
    protected bool IsMeasuring(long now) => now >= Run.MeasureTicks && now < Run.EndTicks;

    protected void CountError(BenchError error)
    {
        Errors[(int)error]++;
        _sampleErrors++;
    }

    /// <summary>Records one completed message whose latency is <paramref name="ticks"/> (only while measuring).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void RecordMessage(long ticks, long now, int bytes)
    {
        if (now >= _sampleEnd)
        {
            // The interval ended while this batch was being read: close it first, so that a message counted in the
            // result is in the interval it completed in (never in the warm-up's last one), and the intervals of
            // --json-stream add up to the result exactly. One comparison per message otherwise.
            SampleIfDue(now);
        }
        if (now - ticks < FirstRecordStartTicks)
        {
            // The earliest start of any counted message, not the first one's to complete: with several in flight, one
            // that started earlier can complete later.
            FirstRecordStartTicks = now - ticks;
        }
        var us = LatencyHistograms.ToMicroseconds(ticks);
        _interval.Record(us);
        _sampleMessages++;
        _sampleBytes += bytes;
        _measured.Record(us);
        Messages++;
        Bytes += bytes;
        LastRecordTicks = now;
    }

    /// <summary>Records a message completed during the warm-up: shown on the live line, never counted.</summary>
    protected void RecordWarmupMessage(long ticks, int bytes)
    {
        _interval.Record(LatencyHistograms.ToMicroseconds(ticks));
        _sampleMessages++;
        _sampleBytes += bytes;
    }

    /// <summary>
    /// Once per loop turn: notes the start of measuring, publishes a finished sample interval, and in message-count
    /// mode tells whether the worker stalled (nothing completed for the stall timeout). Cheap: a few comparisons.
    /// </summary>
    protected bool Tick(long now, long quota)
    {
        if (now >= Run.MeasureTicks && !_measureNoted)
        {
            _measureNoted = true;
            Run.NoteMeasureStart(now);
        }
        if (now >= _sampleEnd)
        {
            SampleIfDue(now);
        }
        if (quota != long.MaxValue && Messages < quota && now - Math.Max(LastRecordTicks, Run.MeasureTicks) > Run.StallTicks)
        {
            Stalled = true;
        }
        return Stalled;
    }

    private bool _measureNoted;

    /// <summary>
    /// For workers whose connections are tasks (TLS, connect rate): runs <paramref name="slot"/> once per connection
    /// and, every 100 ms, publishes finished intervals and cancels the slots when the run ends, is stopped, stalls or
    /// <paramref name="finished"/> says so; then waits for every slot and publishes the final figures. The slots share
    /// this worker's counters under <paramref name="gate"/>.
    /// </summary>
    protected async Task RunSlotsAsync(Func<int, CancellationToken, Task> slot, object gate, long quota, Func<bool> finished, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var slots = new Task[Run.Options.Connections];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = slot(i, stop.Token);
        }
        var all = Task.WhenAll(slots);
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100)))
        {
            while (!all.IsCompleted)
            {
                await Task.WhenAny(all, timer.WaitForNextTickAsync(CancellationToken.None).AsTask()).ConfigureAwait(false);
                var now = Stopwatch.GetTimestamp();
                bool stalled;
                lock (gate)
                {
                    stalled = Tick(now, quota);
                }
                if (now >= Run.EndTicks || Run.Stop || stalled || finished())
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        await all.ConfigureAwait(false);
        lock (gate)
        {
            PublishFinal(Math.Min(Stopwatch.GetTimestamp(), Run.EndTicks));
        }
    }

    /// <summary>The end of the current sample interval: the loop should wake by then.</summary>
    protected long SampleDue => _sampleEnd;

    /// <summary>Publishes the interval's sample when it is over. Cheap when it is not: one comparison.</summary>
    protected void SampleIfDue(long now)
    {
        while (now >= _sampleEnd)
        {
            Publish(final: false, _sampleEnd);
            _sampleIndex++;
            _sampleEnd += Run.SampleTicks;
        }
    }

    /// <summary>Publishes the last, partial interval. Call once, when the loop ends.</summary>
    protected void PublishFinal(long now)
    {
        SampleIfDue(now);
        Publish(final: true, now);
        _measured.AddTo(Latency);
        StopTicks = now;
    }

    /// <summary>
    /// Hands the interval's counts to the aggregator and starts the next interval on a fresh recorder: a handful of
    /// field writes and a queue write, so an interval's end (and the start of measuring, which is one) costs the
    /// worker's loop next to nothing. Adding the latencies up, percentiles and the live line happen on the runner's sample thread.
    /// </summary>
    private void Publish(bool final, long endTicks)
    {
        var latencies = _interval;
        _interval = Run.RentRecorder();
        Run.Aggregator.Post(new WorkerSample
        {
            Worker = Id,
            Index = _sampleIndex,
            Final = final,
            EndTicks = endTicks,
            Messages = _sampleMessages,
            Bytes = _sampleBytes,
            Errors = _sampleErrors,
            Latencies = latencies,
        });
        _sampleMessages = 0;
        _sampleBytes = 0;
        _sampleErrors = 0;
    }

    /// <summary>
    /// Goes once through what a worker does as measuring begins (notes the start, counts a message, ends an interval,
    /// ends the run), on a throwaway worker of a throwaway run before the real run's clock starts
    /// (<see cref="SampleAggregator.Prime"/>). That code runs for the first time at the very moment measuring begins,
    /// inside a worker's loop, and compiling it there was part of what stalled a one-connection <c>-n 100</c> run for
    /// about 3 ms of its 5 ms window (its Little's-law check read 0.55–0.65 instead of 1; docs/bench.md).
    /// </summary>
    internal void Rehearse()
    {
        var now = Run.MeasureTicks;
        RecordWarmupMessage(1, 1);
        Tick(now, long.MaxValue);
        RecordMessage(1, now, 1);
        var end = _sampleEnd;
        SampleIfDue(end);
        PublishFinal(end);
    }
}
