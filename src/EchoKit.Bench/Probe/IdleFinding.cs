namespace EchoKit.Probe;

/// <summary>How long one kind of idle flow survived on the path.</summary>
/// <param name="Check">What was checked: <c>tcp-outbound</c>, <c>tcp-inbound</c>, <c>udp-inbound</c>.</param>
/// <param name="SurvivedSeconds">The longest idle period after which the flow still worked (0 when even the shortest failed).</param>
/// <param name="LostSeconds">The shortest idle period after which it no longer did; null when nothing was lost up to the maximum.</param>
public sealed record IdleFinding(string Check, double SurvivedSeconds, double? LostSeconds)
{
    /// <summary>The uncertainty left: <see cref="LostSeconds"/> minus <see cref="SurvivedSeconds"/>.</summary>
    public double? ResolutionSeconds => LostSeconds - SurvivedSeconds;
}
