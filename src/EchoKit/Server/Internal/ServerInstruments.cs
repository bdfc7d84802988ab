using System.Diagnostics.Metrics;

namespace EchoKit.Server.Internal;

/// <summary>
/// One server's meter and instruments (see <see cref="EchoServerMetrics"/> for the contract). Listeners get a
/// <see cref="ListenerMetrics"/> each; the observable instruments read their totals only when an exporter collects.
/// </summary>
internal sealed class ServerInstruments : IDisposable
{
    private readonly Meter _meter;
    private readonly Lock _lock = new();

    // Copy-on-write: collection callbacks run on an exporter's thread and read the array without a lock.
    private ListenerMetrics[] _listeners = [];

    public ServerInstruments()
    {
        _meter = new Meter(EchoServerMetrics.MeterName, typeof(ServerInstruments).Assembly.GetName().Version?.ToString());
        Accepted = _meter.CreateCounter<long>(EchoServerMetrics.ConnectionsAccepted, "{connection}", "Connections taken on for echo.");
        Rejected = _meter.CreateCounter<long>(EchoServerMetrics.ConnectionsRejected, "{connection}", "Connections closed by policy without echo, by reason.");
        TlsFailures = _meter.CreateCounter<long>(EchoServerMetrics.TlsHandshakeFailures, "{handshake}", "TLS handshakes that failed or timed out.");
        ReflectRequests = _meter.CreateCounter<long>(EchoServerMetrics.ReflectRequests, "{request}", "Requests to reflect listeners, by how each was answered.");
        Duration = _meter.CreateHistogram(EchoServerMetrics.ConnectionDuration, "s", "How long connections lived, by how they ended.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = EchoServerMetrics.DurationBuckets });
        _meter.CreateObservableUpDownCounter(EchoServerMetrics.ConnectionsActive, () => Observe(static l => l.Active), "{connection}", "Connections open right now.");
        _meter.CreateObservableCounter(EchoServerMetrics.BytesReceived, () => Observe(static l => l.BytesReceived), "By", "Bytes read from clients.");
        _meter.CreateObservableCounter(EchoServerMetrics.BytesSent, () => Observe(static l => l.BytesSent), "By", "Bytes echoed back to clients.");
        _meter.CreateObservableCounter(EchoServerMetrics.DatagramsAnswered, () => Observe(static l => l.DatagramsAnswered), "{datagram}", "Datagrams echoed back.");
        _meter.CreateObservableCounter(EchoServerMetrics.DatagramsDropped, ObserveDrops, "{datagram}", "Datagrams received and not answered, by reason.");
    }

    public Counter<long> Accepted { get; }

    public Counter<long> Rejected { get; }

    public Counter<long> TlsFailures { get; }

    public Counter<long> ReflectRequests { get; }

    public Histogram<double> Duration { get; }

    /// <summary>The metrics of the listener bound as <paramref name="listenerUri"/>; reported until the server is disposed.</summary>
    public ListenerMetrics ForListener(string listenerUri)
    {
        var metrics = new ListenerMetrics(this, listenerUri);
        lock (_lock)
        {
            _listeners = [.. _listeners, metrics];
        }
        return metrics;
    }

    private IEnumerable<Measurement<long>> Observe(Func<ListenerMetrics, long> read)
    {
        var listeners = Volatile.Read(ref _listeners);
        var measurements = new Measurement<long>[listeners.Length];
        for (var i = 0; i < listeners.Length; i++)
        {
            measurements[i] = new Measurement<long>(read(listeners[i]), listeners[i].ListenerTag);
        }
        return measurements;
    }

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var listener in Volatile.Read(ref _listeners))
        {
            foreach (var (reason, count) in listener.DatagramsDropped())
            {
                measurements.Add(new Measurement<long>(count, listener.ListenerTag, new KeyValuePair<string, object?>(EchoServerMetrics.ReasonTag, reason)));
            }
        }
        return measurements;
    }

    public void Dispose() => _meter.Dispose();
}
