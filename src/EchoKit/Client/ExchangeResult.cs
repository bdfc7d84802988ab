using System.Net;

namespace EchoKit.Client;

/// <summary>What a one-shot exchange did: the outcome, a one-line reason, counts and timings.</summary>
public sealed record ExchangeResult
{
    /// <summary>How it ended.</summary>
    public required ExchangeOutcome Outcome { get; init; }

    /// <summary>A one-line reason, e.g. <c>connection refused</c> or <c>mismatch at byte 17</c>; "ok" when matched.</summary>
    public required string Message { get; init; }

    /// <summary>True when every byte came back unchanged.</summary>
    public bool Success => Outcome == ExchangeOutcome.Matched;

    /// <summary>Bytes sent.</summary>
    public long BytesSent { get; init; }

    /// <summary>Bytes received back.</summary>
    public long BytesReceived { get; init; }

    /// <summary>For <see cref="ExchangeOutcome.Mismatch"/>: the offset of the first differing byte.</summary>
    public long? MismatchOffset { get; init; }

    /// <summary>For <see cref="ExchangeOutcome.Mismatch"/>: up to 8 bytes that matched just before the difference.</summary>
    public ReadOnlyMemory<byte> MismatchBefore { get; init; }

    /// <summary>For <see cref="ExchangeOutcome.Mismatch"/>: up to 16 bytes expected from the difference on.</summary>
    public ReadOnlyMemory<byte> MismatchExpected { get; init; }

    /// <summary>For <see cref="ExchangeOutcome.Mismatch"/>: up to 16 bytes received from the difference on (empty when the echo was longer than what was sent).</summary>
    public ReadOnlyMemory<byte> MismatchActual { get; init; }

    /// <summary>
    /// What lies under <see cref="Message"/> in the words of the layer that failed (OpenSSL's reason for a TLS
    /// handshake, say), for a verbose report; null when the message says it all.
    /// </summary>
    public string? Detail { get; init; }

    /// <summary>Each address tried that failed, in order (empty when the first one connected).</summary>
    public IReadOnlyList<ConnectAttempt> Attempts { get; init; } = [];

    /// <summary>Our address (getsockname), once connected (with TLS: once the handshake is done); null otherwise.</summary>
    public EndPoint? LocalEndPoint { get; init; }

    /// <summary>The server's address (getpeername), once connected (with TLS: once the handshake is done); null otherwise.</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>Time to connect, the TLS handshake included.</summary>
    public TimeSpan ConnectTime { get; init; }

    /// <summary>From the first byte sent to the last byte of echo checked; only a round trip when <see cref="Success"/>.</summary>
    public TimeSpan RoundTripTime { get; init; }

    /// <summary>
    /// With <see cref="ConnectTlsOptions.SkipValidation"/>: what the server certificate's check found and was told to
    /// ignore ("it is not signed by a trusted CA ..."), for the warning a client owes its user; "none" when the check
    /// passed; null without TLS, with validation on, or before the handshake ended.
    /// </summary>
    public string? TlsValidationIgnored { get; init; }
}
