using System.Net;

namespace EchoKit.Ping.Internal;

/// <summary>What a prober found for one probe; the session numbers and reports it.</summary>
internal readonly record struct ProbeOutcome(PingStatus Status, TimeSpan? RoundTrip, EndPoint? From, string? Detail)
{
    public static ProbeOutcome Ok(TimeSpan roundTrip, EndPoint? from) => new(PingStatus.Ok, roundTrip, from, null);

    public static ProbeOutcome Failed(PingStatus status, string detail, EndPoint? from) => new(status, null, from, detail);
}
