namespace EchoKit.Ping;

/// <summary>The target went down (a probe failed after an answered one, or the first probe failed) or came back up.</summary>
/// <param name="Up">True when the target came back; false when it went down.</param>
/// <param name="Sequence">The first probe in the new state.</param>
/// <param name="Reason">
/// Going down: the failed probe's status word (<c>timeout</c>, <c>refused</c>...), or <c>stalled</c> for a probe answered
/// more than an interval (and at least 50 ms) later than the fastest round trip so far (see <see cref="RoundTrip"/>). Coming up: null.
/// </param>
/// <param name="DownFor">
/// Coming up: how long it was down, from the scheduled start of the first probe down to this one's (probes down times
/// the interval, unless the schedule restarted meanwhile). Going down: null.
/// </param>
public sealed record PingTransition(bool Up, long Sequence, string? Reason, TimeSpan? DownFor)
{
    /// <summary>Going down because a probe stalled: that probe's round trip. Otherwise null.</summary>
    public TimeSpan? RoundTrip { get; init; }
}
