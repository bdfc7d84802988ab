using System.Net;

namespace EchoKit.Ping;

/// <summary>The result of one probe, reported in sequence order.</summary>
/// <param name="Sequence">The probe's number, from 1.</param>
/// <param name="Status">How it ended.</param>
/// <param name="RoundTrip">From just before send() (connect() in connect mode) to the verified answer; null unless <see cref="PingStatus.Ok"/>.</param>
/// <param name="From">The address that answered, or that was tried.</param>
/// <param name="Detail">For failures, a one-line reason (<c>connection reset by peer</c>, <c>mismatch at byte 17</c>); otherwise null.</param>
public sealed record PingReply(long Sequence, PingStatus Status, TimeSpan? RoundTrip, EndPoint? From, string? Detail);
