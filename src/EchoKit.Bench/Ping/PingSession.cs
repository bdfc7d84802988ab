using System.Security.Cryptography;
using EchoKit.Ping.Internal;

namespace EchoKit.Ping;

/// <summary>
/// Probes a target on a fixed schedule and adds the results up: the engine of <c>echokit ping</c>.
/// </summary>
/// <remarks>
/// Probe N starts at start + (N-1) × interval whatever happened to earlier probes, so a slow answer never pushes the
/// next probe back. A timer wakes up late (by a millisecond or more; 15.6 ms on Windows), so the loop sends every
/// probe that is due when it wakes rather than one per wait: at 1 ms intervals it keeps the schedule's rate. If it
/// falls further behind than <see cref="CatchUpLimit"/> (or a whole interval, if longer), e.g. after a suspend, the
/// schedule restarts from now instead of firing the missed probes at once, and the time lost counts in the summary's
/// up/down times (each probe stands for the time until the next one's scheduled start). Each probe has its own
/// timer, even when it outlasts the interval. Results are reported, counted and turned into up/down transitions in
/// sequence order; a stray answer (late, duplicate, reordered) is reported after its probe's own result. The run ends when the count is done (the last probe answered or timed out), at the deadline, or
/// when cancelled; probes still waiting at a deadline or cancellation are not counted.
/// </remarks>
public sealed class PingSession : IPingEvents
{
    private readonly PingOptions _options;
    private readonly IPingObserver _observer;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly PingStatistics _statistics;
    private readonly SortedDictionary<long, (ProbeOutcome Outcome, TimeSpan Scheduled)> _finished = [];
    // Strays whose probe's own result is not reported yet, reported right after it.
    private readonly SortedDictionary<long, List<PingStray>> _heldStrays = [];
    private long _nextToReport = 1;

    /// <summary>
    /// How far behind its schedule the session may fall and still catch up, sending the probes that are due at once;
    /// further behind (and more than a whole interval), the schedule restarts from now. Above the granularity of
    /// timers (about 1 ms on Linux, 15.6 ms on Windows), so short intervals keep their rate; short enough that a
    /// stall of the process does not turn into a burst of probes.
    /// </summary>
    internal static readonly TimeSpan CatchUpLimit = TimeSpan.FromMilliseconds(50);

    /// <summary>Creates a session; nothing is sent until <see cref="RunAsync"/>.</summary>
    /// <param name="options">What to probe and how; validated by <see cref="RunAsync"/>.</param>
    /// <param name="observer">Receives each event; null for none.</param>
    /// <param name="timeProvider">The clock for the schedule, timeouts and round trips; the system clock by default.</param>
    public PingSession(PingOptions options, IPingObserver? observer = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _observer = observer ?? NoObserver.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _statistics = new PingStatistics(options.Interval);
        Target = options.UnixPath ?? options.Endpoint?.Text ?? "";
    }

    /// <summary>The target as given, for reports.</summary>
    public string Target { get; }

    /// <summary>The mode's name in reports: <c>echo</c>, <c>connect</c> or <c>udp</c>.</summary>
    public string ModeName => _options.Mode switch
    {
        PingMode.Connect => "connect",
        PingMode.Udp => "udp",
        _ => "echo",
    };

    /// <summary>The statistics so far (for an interim summary); safe to call while the session runs.</summary>
    public PingSummary Snapshot()
    {
        lock (_gate)
        {
            return _statistics.Summarize(Target, ModeName);
        }
    }

    /// <summary>
    /// Runs the session to its end and returns the final statistics. Throws <see cref="ArgumentException"/> for invalid
    /// options and <see cref="PingTargetException"/> when the target cannot be looked up; every other network failure
    /// is a probe result. Cancelling <paramref name="cancellationToken"/> ends the run early with the statistics so far.
    /// </summary>
    public async Task<PingSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        _options.Validate();
        PingTarget target;
        try
        {
            target = await PingTarget.ResolveAsync(_options, _time, this, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Snapshot(); // stopped during the first lookup: nothing was sent
        }
        var tag = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        IProber prober = _options.Mode switch
        {
            PingMode.Connect => new ConnectProber(_options, _time, target),
            PingMode.Udp => new UdpProber(_options, _time, this, target, tag),
            _ => new EchoProber(_options, _time, this, target, tag),
        };
        await using (prober.ConfigureAwait(false))
        {
            using var deadline = _options.Deadline is { } d ? new CancellationTokenSource(d, _time) : new CancellationTokenSource();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            var probes = new List<Task>();
            try
            {
                await ScheduleAsync(prober, probes, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                // Every probe is awaited: at the count's end each settles within its timeout; at a stop, at once.
                await Task.WhenAll(probes).ConfigureAwait(false);
            }
        }
        lock (_gate)
        {
            // After a stop, probes answered beyond one still waiting are real results: report them too.
            foreach (var (sequence, (outcome, scheduled)) in _finished)
            {
                ReportLocked(sequence, outcome, scheduled);
            }
            _finished.Clear();
            // Strays of probes that were still waiting at the stop: they were seen, so they are reported and counted,
            // after every result.
            foreach (var strays in _heldStrays.Values)
            {
                strays.ForEach(ReportStrayLocked);
            }
            _heldStrays.Clear();
            return _statistics.Summarize(Target, ModeName);
        }
    }

    private async Task ScheduleAsync(IProber prober, List<Task> probes, CancellationToken stop)
    {
        var started = _time.GetTimestamp();
        var anchor = TimeSpan.Zero;
        long anchorSequence = 1;
        var catchUpLimit = _options.Interval > CatchUpLimit ? _options.Interval : CatchUpLimit;
        for (long sequence = 1; _options.Count is not { } count || sequence <= count; sequence++)
        {
            var due = anchor + _options.Interval * (sequence - anchorSequence);
            // Waits only for a probe not yet due: one the loop woke up late for goes out at once, so a timer that
            // overshoots costs no probes (the schedule is absolute) and a short interval keeps its rate.
            await DelayUntilAsync(started, due, stop).ConfigureAwait(false);
            if (stop.IsCancellationRequested)
            {
                return;
            }
            var now = _time.GetElapsedTime(started);
            if (now - due > catchUpLimit)
            {
                // Far behind (a suspended process, a starved machine): restart the schedule from now rather than send
                // the missed probes at once.
                anchor = due = now;
                anchorSequence = sequence;
            }
            probes.Add(ProbeAsync(prober, sequence, due, stop));
            if (probes.Count >= 64)
            {
                probes.RemoveAll(p => p.IsCompletedSuccessfully);
            }
        }
    }

    /// <summary>Waits until <paramref name="due"/> after <paramref name="started"/>; returns early (without throwing) when stopped.</summary>
    private async Task DelayUntilAsync(long started, TimeSpan due, CancellationToken stop)
    {
        var wait = due - _time.GetElapsedTime(started);
        if (wait <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            await Task.Delay(wait, _time, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped: the loop sees it and ends.
        }
    }

    private async Task ProbeAsync(IProber prober, long sequence, TimeSpan scheduled, CancellationToken stop)
    {
        ProbeOutcome outcome;
        try
        {
            outcome = await prober.ProbeAsync(sequence, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return; // stopped while waiting: not counted
        }
        lock (_gate)
        {
            _finished[sequence] = (outcome, scheduled);
            while (_finished.Remove(_nextToReport, out var next))
            {
                ReportLocked(_nextToReport, next.Outcome, next.Scheduled);
            }
        }
    }

    private void ReportLocked(long sequence, ProbeOutcome outcome, TimeSpan scheduled)
    {
        _nextToReport = sequence + 1;
        var transition = _statistics.Add(sequence, outcome.Status, outcome.RoundTrip, scheduled);
        _observer.OnReply(new PingReply(sequence, outcome.Status, outcome.RoundTrip, outcome.From, outcome.Detail));
        if (transition is not null)
        {
            _observer.OnTransition(transition);
        }
        if (_heldStrays.Remove(sequence, out var strays))
        {
            strays.ForEach(ReportStrayLocked);
        }
    }

    private void ReportStrayLocked(PingStray stray)
    {
        _statistics.AddStray(stray.Kind);
        _observer.OnStray(stray);
    }

    void IPingEvents.Resolved(PingResolved resolved)
    {
        lock (_gate)
        {
            _observer.OnResolved(resolved);
        }
    }

    void IPingEvents.Connected(PingConnected connected)
    {
        lock (_gate)
        {
            _observer.OnConnected(connected);
        }
    }

    void IPingEvents.Disconnected(string reason)
    {
        lock (_gate)
        {
            _observer.OnDisconnected(reason);
        }
    }

    void IPingEvents.Stray(PingStray stray)
    {
        lock (_gate)
        {
            // A prober reports a stray as it arrives, which can be before its probe's own result is reported: that
            // waits for the probe's code to continue, and for every earlier probe. Held until then, a duplicate or late
            // answer never comes before the line of the probe it belongs to. An answer that matches no probe
            // (sequence 0) belongs to no line and goes out at once.
            if (stray.Sequence >= _nextToReport)
            {
                if (!_heldStrays.TryGetValue(stray.Sequence, out var held))
                {
                    _heldStrays[stray.Sequence] = held = [];
                }
                held.Add(stray);
                return;
            }
            ReportStrayLocked(stray);
        }
    }

    private sealed class NoObserver : IPingObserver
    {
        public static readonly NoObserver Instance = new();
    }
}
