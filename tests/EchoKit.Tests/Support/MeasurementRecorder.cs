using System.Diagnostics.Metrics;
using EchoKit.Server;

namespace EchoKit.Tests.Support;

/// <summary>
/// Records every <see cref="EchoServerMetrics.MeterName"/> measurement with its listener, reason and result tags, read
/// with a plain <see cref="MeterListener"/>. Servers of tests running beside this one report to the same meter; each
/// query names its listener, whose port is unique.
/// </summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, string? Listener, string? Reason, string? Result, double Value)> _measurements = [];
    private readonly List<(Func<MeasurementRecorder, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public MeasurementRecorder()
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EchoServerMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? listener = null, reason = null, result = null;
        foreach (var tag in tags)
        {
            if (tag.Key == EchoServerMetrics.ListenerTag) { listener = (string?)tag.Value; }
            if (tag.Key == EchoServerMetrics.ReasonTag) { reason = (string?)tag.Value; }
            if (tag.Key == EchoServerMetrics.ResultTag) { result = (string?)tag.Value; }
        }
        lock (_measurements)
        {
            _measurements.Add((instrument.Name, listener, reason, result, value));
        }
        CheckWaiters();
    }

    /// <summary>Reads the observable instruments now (their callbacks run on this thread).</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    /// <summary>
    /// Completes once <paramref name="condition"/> holds, checked now and after every measurement recorded (counters
    /// and histograms arrive as they are recorded; observable instruments only on <see cref="Collect"/>).
    /// </summary>
    public Task WaitForAsync(Func<MeasurementRecorder, bool> condition, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((condition, done));
        }
        CheckWaiters();
        return done.Task.WaitAsync(cancellationToken);
    }

    private void CheckWaiters()
    {
        (Func<MeasurementRecorder, bool> Condition, TaskCompletionSource Done)[] waiters;
        lock (_waiters)
        {
            waiters = [.. _waiters];
        }
        foreach (var waiter in waiters)
        {
            if (waiter.Condition(this))
            {
                lock (_waiters)
                {
                    _waiters.Remove(waiter);
                }
                waiter.Done.TrySetResult();
            }
        }
    }

    private IEnumerable<double> Values(string instrument, Uri listener, string? reason, string? result = null)
    {
        var uri = $"{listener.Scheme}://{listener.Authority}";
        lock (_measurements)
        {
            return _measurements
                .Where(m => m.Instrument == instrument && m.Listener == uri && (reason is null || m.Reason == reason) && (result is null || m.Result == result))
                .Select(m => m.Value).ToArray();
        }
    }

    public double Sum(string instrument, Uri listener, string? reason = null) => Values(instrument, listener, reason).Sum();

    /// <summary>The sum of <paramref name="instrument"/>'s measurements tagged with <paramref name="result"/>.</summary>
    public double SumOfResult(string instrument, Uri listener, string result) => Values(instrument, listener, null, result).Sum();

    public double Last(string instrument, Uri listener) => Values(instrument, listener, null).Last();

    /// <summary>The last measurement of an observable instrument with <paramref name="reason"/>, or 0 when none came.</summary>
    public double LastOf(string instrument, Uri listener, string reason) => Values(instrument, listener, reason).LastOrDefault();

    public int Count(string instrument, Uri listener) => Values(instrument, listener, null).Count();

    /// <summary>How many measurements of <paramref name="instrument"/> carry <paramref name="reason"/>.</summary>
    public int CountOf(string instrument, Uri listener, string reason) => Values(instrument, listener, reason).Count();

    public void Dispose() => _listener.Dispose();
}
