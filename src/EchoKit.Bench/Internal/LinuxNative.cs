using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;

namespace EchoKit.Bench.Internal;

/// <summary>
/// The client side of a raw socket that the load engine needs beside the repository's one Linux layer
/// (<see cref="Libc"/>, <see cref="Errno"/>, <see cref="EventLoop"/>): a non-blocking connect, its pending error, and
/// the native address of the target. The engine drives many sockets from one thread per core, like the C load
/// generator it is measured against, so it uses the same calls: <see cref="Socket"/>'s own engine would add a wasted
/// receive attempt, locks and a state machine per message, which on loopback is a measurable share of the work.
/// </summary>
internal static class LinuxNative
{
    /// <summary>True where this engine runs: Linux, on a 64-bit process.</summary>
    public static bool IsSupported => Libc.IsSupported;

    /// <summary>
    /// Opens a non-blocking socket and starts connecting it. Returns the descriptor (connected, or connecting when
    /// <paramref name="inProgress"/>), or -1 with <paramref name="error"/> set to errno.
    /// </summary>
    public static int StartConnect(byte[] sockaddr, int sockaddrLength, int family, bool stream, out bool inProgress, out int error)
    {
        inProgress = false;
        var fd = Libc.Socket(family, (stream ? Libc.SOCK_STREAM : Libc.SOCK_DGRAM) | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            error = Libc.LastPInvokeError;
            return -1;
        }
        if (stream)
        {
            var one = 1;
            Libc.SetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, ref one, sizeof(int));
        }
        if (Libc.Connect(fd, ref sockaddr[0], (uint)sockaddrLength) == 0)
        {
            error = 0;
            return fd;
        }
        error = Libc.LastPInvokeError;
        if (error == Errno.EINPROGRESS)
        {
            inProgress = true;
            error = 0;
            return fd;
        }
        Libc.Close(fd);
        return -1;
    }

    /// <summary>The pending error of a socket (SO_ERROR): 0 once a non-blocking connect succeeded.</summary>
    public static int PendingError(int fd)
    {
        var value = 0;
        var length = (uint)sizeof(int);
        return Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, ref value, ref length) == 0 ? value : Libc.LastPInvokeError;
    }

    /// <summary>Writes the native <c>sockaddr_in</c>/<c>sockaddr_in6</c> for an endpoint; returns its length.</summary>
    public static int WriteSockaddr(IPEndPoint endPoint, byte[] target)
    {
        Array.Clear(target);
        return SocketAddresses.Write(endPoint, target);
    }
}
