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
        SocketError.AddressFamilyNotSupported => (ExchangeOutcome.HostNotFound, "no address of the IP version asked for (-4/-6, --source)"),
        SocketError.AddressAlreadyInUse => (ExchangeOutcome.Failed, "source address already in use"),
        SocketError.AccessDenied => (ExchangeOutcome.Failed, "permission denied"),
        _ => (ExchangeOutcome.Failed, new SocketException((int)error).Message.ToLowerInvariant()),
    };

    /// <summary>The reason a Unix socket could not be reached, naming its path; null when the generic reason says it well.</summary>
    public static string? DescribeUnix(SocketError error, string path) => error switch
    {
        SocketError.AddressNotAvailable or SocketError.InvalidArgument => $"no Unix socket at {path}",
        SocketError.ConnectionRefused => $"nothing listens on {path} (a stale socket file?)",
        SocketError.AccessDenied => $"{path}: permission denied",
        _ => null,
    };

    /// <summary>Formats a duration the way users write it: <c>10s</c>, <c>1.5s</c>, <c>250ms</c>.</summary>
    public static string FormatDuration(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? $"{duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}ms";
}
