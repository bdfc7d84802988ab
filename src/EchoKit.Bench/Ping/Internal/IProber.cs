namespace EchoKit.Ping.Internal;

/// <summary>One mode's way of probing. Probes may overlap (a timeout longer than the interval); each keeps its own timer.</summary>
internal interface IProber : IAsyncDisposable
{
    /// <summary>
    /// Runs probe <paramref name="sequence"/> within the session's timeout. Network trouble is an outcome, never an
    /// exception; cancelling <paramref name="stop"/> throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ProbeOutcome> ProbeAsync(long sequence, CancellationToken stop);
}
