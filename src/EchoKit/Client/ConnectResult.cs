using System.Net;

namespace EchoKit.Client;

/// <summary>What an interactive session did: how it ended in one line, counts and timings.</summary>
public sealed record ConnectResult
{
    /// <summary>How it ended.</summary>
    public required ConnectOutcome Outcome { get; init; }

    /// <summary>A one-line reason, e.g. <c>connection refused</c> or <c>idle for 30s</c>; <c>peer closed</c> on success.</summary>
    public required string Message { get; init; }

    /// <summary>True when the peer closed cleanly (TCP) or the replies ended after input (UDP).</summary>
    public bool Success => Outcome is ConnectOutcome.PeerClosed or ConnectOutcome.RepliesEnded;

    /// <summary>Payload bytes sent (after --crlf and encoding).</summary>
    public long BytesSent { get; init; }

    /// <summary>Payload bytes received.</summary>
    public long BytesReceived { get; init; }

    /// <summary>UDP: datagrams sent.</summary>
    public long DatagramsSent { get; init; }

    /// <summary>UDP: datagrams received.</summary>
    public long DatagramsReceived { get; init; }

    /// <summary>Our address (getsockname), once connected.</summary>
    public EndPoint? LocalEndPoint { get; init; }

    /// <summary>The peer's address (getpeername), once connected.</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>Time to resolve and connect (without the TLS handshake).</summary>
    public TimeSpan ConnectTime { get; init; }

    /// <summary>From the start to the end of the session.</summary>
    public TimeSpan Duration { get; init; }
}
