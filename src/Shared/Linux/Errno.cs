using System.Net.Sockets;

namespace EchoKit.Internal.Linux;

/// <summary>
/// The one errno table of the repository: the Linux values the engines meet (x86-64 and arm64 agree on all of
/// them), and their mapping to <see cref="SocketError"/>, so errors from raw descriptors are sorted by the same
/// rules as errors from <see cref="Socket"/>.
/// </summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int ENOTSOCK = 88;
    public const int EOPNOTSUPP = 95;
    public const int EMSGSIZE = 90;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETDOWN = 100;
    public const int ENETUNREACH = 101;
    public const int ENETRESET = 102;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;
    public const int ESHUTDOWN = 108;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EINPROGRESS = 115;

    /// <summary>The <see cref="SocketError"/> .NET reports for <paramref name="errno"/>; unknown values are general.</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        0 => SocketError.Success,
        EPERM or EACCES => SocketError.AccessDenied,
        EINTR => SocketError.Interrupted,
        EBADF => SocketError.OperationAborted, // closed under us
        EAGAIN => SocketError.WouldBlock,
        ENOMEM or ENOBUFS => SocketError.NoBufferSpaceAvailable,
        ENFILE or EMFILE => SocketError.TooManyOpenSockets,
        EPIPE or ESHUTDOWN => SocketError.Shutdown,
        ENOTSOCK => SocketError.NotSocket,
        EMSGSIZE => SocketError.MessageSize,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        ENETDOWN => SocketError.NetworkDown,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ENETRESET => SocketError.NetworkReset,
        ECONNABORTED => SocketError.ConnectionAborted,
        ECONNRESET => SocketError.ConnectionReset,
        ENOTCONN => SocketError.NotConnected,
        ETIMEDOUT => SocketError.TimedOut,
        ECONNREFUSED => SocketError.ConnectionRefused,
        EHOSTUNREACH => SocketError.HostUnreachable,
        EINPROGRESS => SocketError.InProgress,
        _ => SocketError.SocketError,
    };
}
