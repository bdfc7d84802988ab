using System.Net;

namespace EchoKit.Client;

/// <summary>What a one-datagram UDP exchange did: the outcome, a one-line reason, the answer and timings.</summary>
public sealed record UdpExchangeResult
{
    /// <summary>How it ended: <see cref="ExchangeOutcome.Matched"/>, <see cref="ExchangeOutcome.Mismatch"/>,
    /// <see cref="ExchangeOutcome.TimedOut"/> (no reply after every try), <see cref="ExchangeOutcome.Refused"/>
    /// (the host said no UDP port is open there), or another failure.</summary>
    public required ExchangeOutcome Outcome { get; init; }

    /// <summary>A one-line reason, e.g. <c>no reply after 3 tries</c> or <c>mismatch at byte 17</c>; "ok" when matched.</summary>
    public required string Message { get; init; }

    /// <summary>True when the answer was byte for byte the datagram sent.</summary>
    public bool Success => Outcome == ExchangeOutcome.Matched;

    /// <summary>Datagrams sent (1 + retries used).</summary>
    public int Tries { get; init; }

    /// <summary>Payload bytes of the datagram.</summary>
    public int BytesSent { get; init; }

    /// <summary>The answer received from the server (empty when none came).</summary>
    public ReadOnlyMemory<byte> Reply { get; init; }

    /// <summary>For <see cref="ExchangeOutcome.Mismatch"/>: the offset of the first differing byte (or where one datagram ends).</summary>
    public int? MismatchOffset { get; init; }

    /// <summary>Our address, once the socket was set up.</summary>
    public EndPoint? LocalEndPoint { get; init; }

    /// <summary>The server's address the datagram went to.</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>From sending the datagram that was answered to the answer.</summary>
    public TimeSpan RoundTripTime { get; init; }
}
