namespace EchoKit.Ping;

/// <summary>A late, duplicate, reordered or unmatched answer.</summary>
/// <param name="Kind">What it was.</param>
/// <param name="Sequence">The probe it answers; 0 when none could be read from it.</param>
/// <param name="RoundTrip">Time since that probe was sent, when known.</param>
public sealed record PingStray(PingStrayKind Kind, long Sequence, TimeSpan? RoundTrip);
