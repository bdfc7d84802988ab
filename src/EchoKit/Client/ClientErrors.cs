using System.Net.Sockets;

namespace EchoKit.Client;

/// <summary>Turns socket failures into the one-line reasons and outcomes a client reports.</summary>
public static class ClientErrors
{
    /// <summary>The outcome and one-line reason for a socket error.</summary>
    public static (ExchangeOutcome Outcome, string Message) Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => (ExchangeOutcome.Refused, "connection refused"),
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => (ExchangeOutcome.HostNotFound, "host not found"),
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => (ExchangeOutcome.Unreachable, "network unreachable"),
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => (ExchangeOutcome.Reset, "connection reset by peer"),
        SocketError.TimedOut => (ExchangeOutcome.TimedOut, "timed out"),
        SocketError.AddressNotAvailable => (ExchangeOutcome.Failed, "address not available"),
        _ => (ExchangeOutcome.Failed, new SocketException((int)error).Message.ToLowerInvariant()),
    };

    /// <summary>Formats a duration the way users write it: <c>10s</c>, <c>1.5s</c>, <c>250ms</c>.</summary>
    public static string FormatDuration(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? $"{duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}ms";
}
