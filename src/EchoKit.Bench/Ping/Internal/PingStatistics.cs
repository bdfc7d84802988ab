using EchoKit.Bench.Internal;
using HdrHistogram;

namespace EchoKit.Ping.Internal;

/// <summary>
/// Adds probe results up, in sequence order: counts, round trips (exact min/avg/max/mdev, HdrHistogram percentiles),
/// jitter, and the up/down state with its transitions. Not thread-safe: the session calls it under its lock.
/// </summary>
/// <remarks>
/// A probe answered more than one interval (and at least <see cref="StallFloorMs"/>) later than the fastest round trip
/// seen so far is <em>stalled</em>: its answer came after the next probe's answer could have, so the path held it
/// (TCP retransmitting a segment or a SYN through an outage, a queue filling up). It counts as received, for loss and round trips, but its interval as down
/// time: otherwise the probes of an outage that TCP delivers once the link is back, within the timeout, would count as
/// up and the outage would shrink by up to the timeout. One rule for every mode: a UDP answer that slow was held too.
/// </remarks>
internal sealed class PingStatistics
{
    private readonly LongHistogram _histogram = LatencyHistograms.Create();
    private readonly TimeSpan _interval;
    private long _sent, _received, _timeouts, _refused, _errors, _mismatches, _duplicates, _late, _reordered, _stalled;
    private double _sumMs, _sumSquaresMs, _minMs = double.MaxValue, _maxMs;
    private double _sumDifferenceMs;
    private double? _previousMs;
    private long _differences;
    private bool? _up;
    private long _lastSequence;
    private TimeSpan _lastScheduled;
    private TimeSpan _upTime, _downTime, _outage, _longestOutage;
    private long _outages;

    /// <summary>
    /// The least delay beyond the fastest round trip that counts as a stall, whatever the interval: at <c>-i 1ms</c> a
    /// millisecond's hiccup of the machine itself is not an outage anyone asks about. 50 ms, as the schedule's own
    /// tolerance (<see cref="PingSession"/>'s catch-up limit); an outage is then known to within an interval or 50 ms.
    /// </summary>
    internal const double StallFloorMs = 50;

    public PingStatistics(TimeSpan interval) => _interval = interval;

    /// <summary>Counts one probe's result; returns the transition it caused, if any.</summary>
    /// <param name="sequence">The probe's number; probes are added in sequence order.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="roundTrip">Its round trip, when answered.</param>
    /// <param name="scheduled">
    /// When it was due, from the session's start: (sequence − 1) × interval unless the schedule restarted. Each probe
    /// stands for the time from its own scheduled start to the next probe's (the last: one interval), so up and down
    /// times add up to the time the session took, even when it fell behind and restarted its schedule.
    /// </param>
    public PingTransition? Add(long sequence, PingStatus status, TimeSpan? roundTrip, TimeSpan? scheduled = null)
    {
        var at = scheduled ?? _interval * (sequence - 1);
        if (_up is { } previousUp)
        {
            // The previous probe's time is known now that this one's start is. After a gap in the sequence (probes
            // not counted at a stop), the previous probe stands for one interval, as the last one does.
            var span = sequence == _lastSequence + 1 && at > _lastScheduled ? at - _lastScheduled : _interval;
            if (previousUp)
            {
                _upTime += span;
            }
            else
            {
                _downTime += span;
                _outage += span;
            }
        }
        _lastScheduled = at;
        _sent++;
        _lastSequence = sequence;
        var stalled = false;
        switch (status)
        {
            case PingStatus.Ok:
                // Compared with the fastest answer before this one: a probe is never stalled against itself.
                stalled = _received > 0 && (roundTrip ?? TimeSpan.Zero).TotalMilliseconds > Math.Max(_interval.TotalMilliseconds, StallFloorMs) + _minMs;
                _received++;
                AddRoundTrip(roundTrip ?? TimeSpan.Zero);
                break;
            case PingStatus.Timeout:
                _timeouts++;
                break;
            case PingStatus.Refused:
                _refused++;
                break;
            case PingStatus.Mismatch:
                _mismatches++;
                break;
            default:
                _errors++;
                break;
        }

        if (stalled)
        {
            _stalled++;
        }
        if (status == PingStatus.Ok && !stalled)
        {
            var wasDown = _up == false;
            _up = true;
            if (wasDown)
            {
                _longestOutage = _outage > _longestOutage ? _outage : _longestOutage;
                return new PingTransition(true, sequence, null, _outage);
            }
            return null;
        }
        if (_up != false)
        {
            _up = false;
            _outage = TimeSpan.Zero;
            _outages++;
            return stalled
                ? new PingTransition(false, sequence, "stalled", null) { RoundTrip = roundTrip }
                : new PingTransition(false, sequence, StatusWord(status), null);
        }
        return null;
    }

    /// <summary>Counts an answer that settled no probe.</summary>
    public void AddStray(PingStrayKind kind)
    {
        switch (kind)
        {
            case PingStrayKind.Late:
                _late++;
                break;
            case PingStrayKind.Duplicate:
                _duplicates++;
                break;
            case PingStrayKind.Reordered:
                _reordered++;
                break;
            default:
                _mismatches++;
                break;
        }
    }

    public PingSummary Summarize(string target, string mode)
    {
        // The last probe stands for one interval of the state it found.
        var ongoing = _up == false ? _outage + _interval : TimeSpan.Zero;
        var received = _received > 0;
        var mean = received ? _sumMs / _received : 0;
        return new PingSummary
        {
            Target = target,
            Mode = mode,
            Sent = _sent,
            Received = _received,
            Timeouts = _timeouts,
            Refused = _refused,
            Errors = _errors,
            Mismatches = _mismatches,
            Duplicates = _duplicates,
            Late = _late,
            Reordered = _reordered,
            Stalled = _stalled,
            MinMs = received ? _minMs : null,
            AvgMs = received ? mean : null,
            MaxMs = received ? _maxMs : null,
            MdevMs = received ? Math.Sqrt(Math.Max(0, _sumSquaresMs / _received - mean * mean)) : null,
            P50Ms = received ? Percentile(50) : null,
            P90Ms = received ? Percentile(90) : null,
            P99Ms = received ? Percentile(99) : null,
            JitterMs = _differences > 0 ? _sumDifferenceMs / _differences : null,
            Up = _up == true ? _upTime + _interval : _upTime,
            Down = _up == false ? _downTime + _interval : _downTime,
            LongestOutage = ongoing > _longestOutage ? ongoing : _longestOutage,
            Outages = _outages,
        };
    }

    /// <summary>The word a status is printed as: <c>ok</c>, <c>timeout</c>, <c>refused</c>, <c>error</c>, <c>mismatch</c>.</summary>
    public static string StatusWord(PingStatus status) => status switch
    {
        PingStatus.Ok => "ok",
        PingStatus.Timeout => "timeout",
        PingStatus.Refused => "refused",
        PingStatus.Mismatch => "mismatch",
        _ => "error",
    };

    private void AddRoundTrip(TimeSpan roundTrip)
    {
        var ms = roundTrip.TotalMilliseconds;
        _sumMs += ms;
        _sumSquaresMs += ms * ms;
        _minMs = Math.Min(_minMs, ms);
        _maxMs = Math.Max(_maxMs, ms);
        if (_previousMs is { } previous)
        {
            _sumDifferenceMs += Math.Abs(ms - previous);
            _differences++;
        }
        _previousMs = ms;
        var microseconds = (long)Math.Round(roundTrip.Ticks / (double)TimeSpan.TicksPerMicrosecond);
        _histogram.RecordValue(Math.Clamp(microseconds, 0, LatencyHistograms.HighestMicroseconds));
    }

    private double Percentile(double percentile) => _histogram.GetValueAtPercentile(percentile) / 1000.0;
}
