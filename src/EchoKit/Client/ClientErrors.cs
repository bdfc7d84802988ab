using System.Net.Sockets;
using EchoKit.Internal;
using EchoKit.Internal.Linux;

namespace EchoKit.Client;

/// <summary>
/// Turns socket failures into the one-line reasons and outcomes a client reports, and failures of its local streams
/// (standard input and output) into the system's own words.
/// </summary>
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

    /// <summary>
    /// The system's words for a failed read or write of a local stream (standard input or output, a pipe, a file):
    /// "No space left on device", "Bad file descriptor", "Is a directory". .NET reports EBADF, EACCES and EPERM as an
    /// <see cref="UnauthorizedAccessException"/> that says "Access to the path is denied" whatever the stream, with the
    /// system's words in its inner exception; those are the ones given here. Null for an exception that is neither.
    /// </summary>
    public static string? DescribeStreamError(Exception exception) => exception switch
    {
        UnauthorizedAccessException { InnerException: IOException inner } => inner.Message.TrimEnd('.'),
        UnauthorizedAccessException => "permission denied",
        IOException io => io.Message.TrimEnd('.'),
        _ => null,
    };

    /// <summary>
    /// True when a write failed because nobody reads the pipe any more (EPIPE, <c>| head</c>): the one stream error
    /// that is not a fault but the reader's way of saying "enough". .NET gives errno as the exception's HResult.
    /// </summary>
    public static bool IsBrokenPipe(Exception exception) =>
        exception is IOException { HResult: Errno.EPIPE } or UnauthorizedAccessException { InnerException: IOException { HResult: Errno.EPIPE } };

    /// <summary>Formats a duration the way users write it: <c>10s</c>, <c>1.5s</c>, <c>250ms</c>.</summary>
    public static string FormatDuration(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? $"{duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}ms";
}
