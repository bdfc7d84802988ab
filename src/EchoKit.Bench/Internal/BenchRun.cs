using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using EchoKit.Internal.Linux;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>
/// What every worker of one run shares: the settings, the target address, the clock marks (Stopwatch ticks), the stop
/// flag, and the queue samples travel through. Workers only read it, except for the queue and the histogram pool.
/// </summary>
internal sealed class BenchRun
{
    // Queues, not bags: a ConcurrentBag taken from on a thread that never added to it first builds that thread's own
    // list (about 0.4 ms), and a worker takes recorders the runner's sample thread gave back.
    private readonly ConcurrentQueue<LongHistogram> _pool = new();
    private readonly ConcurrentQueue<LatencyRecorder> _recorders = new();

    /// <summary>AF_UNIX, for a Unix domain socket target.</summary>
    private const int AfUnix = 1;

    /// <param name="options">The run's settings.</param>
    /// <param name="target">Where the load goes.</param>
    /// <param name="startTicks">When load starts.</param>
    /// <param name="recorders">
    /// Interval recorders for the pool, made before the clock started, so that a worker's loop never allocates one (a
    /// 184 KiB array, on the large-object heap) at an interval's end, the first of which is the start of measuring.
    /// </param>
    public BenchRun(BenchOptions options, EndPoint target, long startTicks, IEnumerable<LatencyRecorder>? recorders = null)
    {
        foreach (var recorder in recorders ?? [])
        {
            _recorders.Enqueue(recorder);
        }
        Options = options;
        Target = target;
        Budget = options.Messages is { } messages && options.Mode is BenchMode.Tcp or BenchMode.Udp && options.Tls is null ? new MessageBudget(messages, options.EffectiveWorkers) : null;
        Workers = options.EffectiveWorkers;
        StartTicks = startTicks;
        RampTicks = (long)(options.Ramp.TotalSeconds * Stopwatch.Frequency);
        MeasureTicks = startTicks + RampTicks + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        EndTicks = options.Messages is null ? MeasureTicks + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        SampleTicks = (long)(options.SampleInterval.TotalSeconds * Stopwatch.Frequency);
        ConnectTimeoutTicks = (long)(options.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        LossTimeoutTicks = (long)(options.LossTimeout.TotalSeconds * Stopwatch.Frequency);
        StallTicks = (long)(options.StallTimeout.TotalSeconds * Stopwatch.Frequency);
        if (target is IPEndPoint ip)
        {
            Sockaddr = new byte[28];
            SockaddrLength = LinuxNative.WriteSockaddr(ip, Sockaddr);
            Family = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Libc.AF_INET : Libc.AF_INET6;
        }
        else
        {
            // struct sockaddr_un: the family, then the NUL-terminated path (at most 107 bytes, checked by the options).
            var path = System.Text.Encoding.UTF8.GetBytes(options.UnixPath!);
            Sockaddr = new byte[2 + 108];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(Sockaddr, AfUnix);
            path.CopyTo(Sockaddr, 2);
            SockaddrLength = 2 + path.Length + 1;
            Family = AfUnix;
        }
    }

    public BenchOptions Options { get; }

    /// <summary>A TCP (or Unix) or UDP message-count run's messages, which its workers take in batches; null otherwise.</summary>
    public MessageBudget? Budget { get; }

    /// <summary>Where the load goes: an IP endpoint, or a <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>.</summary>
    public EndPoint Target { get; }

    /// <summary>How long the connections take to open (the ramp), before the warm-up.</summary>
    public long RampTicks { get; }

    public int Workers { get; }

    public byte[] Sockaddr { get; }

    public int SockaddrLength { get; }

    public int Family { get; }

    /// <summary>When load starts (the warm-up begins).</summary>
    public long StartTicks { get; }

    /// <summary>When measuring starts: messages completing before are not counted.</summary>
    public long MeasureTicks { get; }

    /// <summary>When measuring ends (duration mode); <see cref="long.MaxValue"/> in message-count mode.</summary>
    public long EndTicks { get; }

    public long SampleTicks { get; }

    public long ConnectTimeoutTicks { get; }

    public long LossTimeoutTicks { get; }

    /// <summary>Set once to stop every worker (cancellation). Workers look at it at least every 100 ms.</summary>
    public volatile bool Stop;

    /// <summary>Adds the workers' samples; set by the runner before the workers start.</summary>
    public SampleAggregator Aggregator { get; set; } = null!;

    /// <summary>When measuring started and the process's CPU time then, noted by the first worker to get there.</summary>
    public (long Ticks, TimeSpan Cpu)? MeasureCpuStart => _measureCpuStart;

    public long StallTicks { get; }

    private (long Ticks, TimeSpan Cpu)? _measureCpuStart;
    private int _measureNoted;

    /// <summary>Notes the process's CPU time as measuring starts (once; later calls do nothing).</summary>
    public void NoteMeasureStart(long now)
    {
        if (Interlocked.Exchange(ref _measureNoted, 1) == 0)
        {
            _measureCpuStart = (now, Environment.CpuUsage.TotalTime);
        }
    }

    /// <summary>The sample interval number of a moment: negative during the warm-up.</summary>
    public long SampleIndex(long ticks) => (long)Math.Floor((double)(ticks - MeasureTicks) / SampleTicks);

    /// <summary>An empty interval recorder, for a worker's next interval.</summary>
    public LatencyRecorder RentRecorder() => _recorders.TryDequeue(out var recorder) ? recorder : new LatencyRecorder();

    /// <summary>Gives a recorder back, emptied, once its counts have been added up.</summary>
    public void ReturnRecorder(LatencyRecorder recorder)
    {
        recorder.Reset();
        _recorders.Enqueue(recorder);
    }

    public LongHistogram RentHistogram() => _pool.TryDequeue(out var histogram) ? histogram : LatencyHistograms.Create();

    public void ReturnHistogram(LongHistogram histogram)
    {
        histogram.Reset();
        _pool.Enqueue(histogram);
    }
}
