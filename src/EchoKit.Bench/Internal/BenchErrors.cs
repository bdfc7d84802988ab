using System.Net.Sockets;

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

    /// <summary>Sorts a Linux errno from connect/recv/send.</summary>
    public static BenchError FromErrno(int errno) => errno switch
    {
        LinuxNative.ECONNREFUSED => BenchError.Refused,
        LinuxNative.ECONNRESET or LinuxNative.EPIPE or LinuxNative.ECONNABORTED => BenchError.Reset,
        LinuxNative.ETIMEDOUT => BenchError.TimedOut,
        LinuxNative.EHOSTUNREACH or LinuxNative.ENETUNREACH => BenchError.Unreachable,
        LinuxNative.EADDRNOTAVAIL => BenchError.AddressNotAvailable,
        _ => BenchError.Other,
    };

    /// <summary>Sorts a managed socket error (the connect-rate mode uses <see cref="Socket"/>).</summary>
    public static BenchError FromSocketError(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => BenchError.Refused,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.NotConnected => BenchError.Reset,
        SocketError.TimedOut => BenchError.TimedOut,
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.NetworkDown => BenchError.Unreachable,
        SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse => BenchError.AddressNotAvailable,
        _ => BenchError.Other,
    };
}
