namespace EchoKit.Probe;

/// <summary>What <see cref="LbProbe"/> found.</summary>
/// <param name="Transport"><c>tcp</c> (one connection per try) or <c>udp</c> (one socket per try).</param>
/// <param name="Tries">Connections or datagram flows tried.</param>
/// <param name="Instances">How many tries each instance id answered.</param>
/// <param name="Failed">Tries that got no answer.</param>
/// <param name="FlowSticky">Whether repeated requests on one connection or socket always reached the same instance.</param>
public sealed record LbProbeResult(string Transport, int Tries, IReadOnlyDictionary<string, int> Instances, int Failed, bool FlowSticky)
{
    /// <summary>
    /// Whether every try of this client reached one instance (source affinity, or a single backend). False when any
    /// try failed: the failed ones may have gone to another backend that is down.
    /// </summary>
    public bool Sticky => Instances.Count == 1 && Failed == 0;

    /// <summary>Why the first failed try failed (e.g. "cannot connect to 10.77.100.1:7007: connection refused"), or null when none failed.</summary>
    public string? FirstError { get; init; }
}
