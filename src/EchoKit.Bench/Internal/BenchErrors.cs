using System.Net.Sockets;
using EchoKit.Internal;

namespace EchoKit.Bench.Internal;

/// <summary>Names and classification of <see cref="BenchError"/>; the names are the keys of <c>errors_by_reason</c>.</summary>
internal static class BenchErrors
{
    public const int Count = (int)BenchError.Other + 1;

    public static string Name(BenchError error) => error switch
    {
        BenchError.Refused => "refused",
        BenchError.Reset => "reset",
        BenchError.TimedOut => "timed out",
        BenchError.ClosedByServer => "closed by server",
        BenchError.Unreachable => "unreachable",
        BenchError.AddressNotAvailable => "address not available",
        _ => "other",
    };

    /// <summary>Sorts a Linux errno from connect/recv/send (the epoll workers), through the one errno table.</summary>
    public static BenchError FromErrno(int errno) => FromKind(SocketErrors.ClassifyErrno(errno));

    /// <summary>Sorts a managed socket error (the connect-rate mode uses <see cref="Socket"/>).</summary>
    public static BenchError FromSocketError(SocketError error) => FromKind(SocketErrors.Classify(error));

    // Which errors belong together is SocketErrors' call; the bench counts a connection that was dropped under it
    // (reset, or no longer connected) as one reason, and any local-address failure as another.
    private static BenchError FromKind(SocketErrorKind kind) => kind switch
    {
        SocketErrorKind.Refused => BenchError.Refused,
        SocketErrorKind.Reset or SocketErrorKind.NotConnected => BenchError.Reset,
        SocketErrorKind.TimedOut => BenchError.TimedOut,
        SocketErrorKind.Unreachable => BenchError.Unreachable,
        SocketErrorKind.AddressNotAvailable or SocketErrorKind.AddressInUse => BenchError.AddressNotAvailable,
        _ => BenchError.Other,
    };
}
