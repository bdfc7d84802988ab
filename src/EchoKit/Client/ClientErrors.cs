using System.Net.Sockets;
using EchoKit.Internal;

namespace EchoKit.Client;

/// <summary>Turns socket failures into the one-line reasons and outcomes a client reports.</summary>
public static class ClientErrors
{
    /// <summary>The outcome and one-line reason for a socket error.</summary>
    /// <remarks>Which errors belong together is <see cref="SocketErrors"/>' call; the words are the client's.</remarks>
    public static (ExchangeOutcome Outcome, string Message) Describe(SocketError error) => SocketErrors.Classify(error) switch
    {
        SocketErrorKind.Refused => (ExchangeOutcome.Refused, "connection refused"),
        SocketErrorKind.HostNotFound => (ExchangeOutcome.HostNotFound, "host not found"),
        SocketErrorKind.Unreachable => (ExchangeOutcome.Unreachable, "network unreachable"),
        SocketErrorKind.Reset => (ExchangeOutcome.Reset, "connection reset by peer"),
        SocketErrorKind.TimedOut => (ExchangeOutcome.TimedOut, "timed out"),
        SocketErrorKind.AddressNotAvailable => (ExchangeOutcome.Failed, "address not available"),
        SocketErrorKind.AddressFamilyNotSupported => (ExchangeOutcome.HostNotFound, "no address of the IP version asked for (-4/-6, --source)"),
        SocketErrorKind.AddressInUse => (ExchangeOutcome.Failed, "source address already in use"),
        SocketErrorKind.AccessDenied => (ExchangeOutcome.Failed, "permission denied"),
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
