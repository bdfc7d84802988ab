using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;

namespace EchoKit.Bench.Internal;

/// <summary>
/// The few Linux calls the load engine makes directly: epoll, non-blocking connect, recv and send on raw descriptors.
/// The engine drives many sockets from one thread per core, like the C load generator it is measured against, so it
/// uses the same calls: <see cref="Socket"/>'s own engine would add a wasted receive attempt, locks and a state
/// machine per message, which on loopback is a measurable share of the work. The declarations, the errno values and
/// the epoll event layout are the repository's one Linux layer (<see cref="Libc"/>, <see cref="Errno"/>,
/// <see cref="EpollEvents"/>); this class only keeps the names the workers use.
/// </summary>
internal static class LinuxNative
{
    public const int EINTR = EchoKit.Internal.Linux.Errno.EINTR;
    public const int EAGAIN = EchoKit.Internal.Linux.Errno.EAGAIN;
    public const int EPIPE = EchoKit.Internal.Linux.Errno.EPIPE;
    public const int ENOSYS = EchoKit.Internal.Linux.Errno.ENOSYS;
    public const int EADDRNOTAVAIL = EchoKit.Internal.Linux.Errno.EADDRNOTAVAIL;
    public const int ENETUNREACH = EchoKit.Internal.Linux.Errno.ENETUNREACH;
    public const int ECONNABORTED = EchoKit.Internal.Linux.Errno.ECONNABORTED;
    public const int ECONNRESET = EchoKit.Internal.Linux.Errno.ECONNRESET;
    public const int ETIMEDOUT = EchoKit.Internal.Linux.Errno.ETIMEDOUT;
    public const int ECONNREFUSED = EchoKit.Internal.Linux.Errno.ECONNREFUSED;
    public const int EHOSTUNREACH = EchoKit.Internal.Linux.Errno.EHOSTUNREACH;
    public const int EINPROGRESS = EchoKit.Internal.Linux.Errno.EINPROGRESS;

    public const int AF_INET = Libc.AF_INET;
    public const int AF_INET6 = Libc.AF_INET6;

    public const uint EPOLLIN = EpollEvents.EPOLLIN;
    public const uint EPOLLOUT = EpollEvents.EPOLLOUT;
    public const uint EPOLLERR = EpollEvents.EPOLLERR;
    public const uint EPOLLHUP = EpollEvents.EPOLLHUP;
    public const int EPOLL_CTL_ADD = EpollEvents.EPOLL_CTL_ADD;
    public const int EPOLL_CTL_DEL = EpollEvents.EPOLL_CTL_DEL;
    public const int EPOLL_CTL_MOD = EpollEvents.EPOLL_CTL_MOD;

    /// <summary>Size of <c>struct epoll_event</c> on this processor.</summary>
    public static int EpollEventSize => EpollEvents.Size;

    private static int s_pwait2 = 1; // 1 = try epoll_pwait2, 0 = the kernel or libc lacks it

    /// <summary>True where this engine runs: Linux, on a 64-bit process.</summary>
    public static bool IsSupported => Libc.IsSupported;

    public static int Errno => Libc.LastPInvokeError;

    /// <summary>A new epoll descriptor, or throws.</summary>
    public static int CreateEpoll() => EpollEvents.Create();

    /// <summary>Adds, modifies or removes <paramref name="fd"/> in an epoll set; returns errno or 0.</summary>
    public static int Control(int epfd, int op, int fd, uint events, ulong data) => EpollEvents.Control(epfd, op, fd, events, data);

    /// <summary>
    /// Waits for events, at most <paramref name="timeoutTicks"/> Stopwatch ticks (0 polls). epoll_pwait2 takes
    /// nanoseconds, so a rate schedule wakes on time; where it is missing the wait is rounded up to whole ms.
    /// Returns the count, 0 on timeout or EINTR.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Wait(int epfd, byte[] events, long timeoutTicks)
    {
        var max = events.Length / EpollEventSize;
        int n;
        if (timeoutTicks <= 0)
        {
            n = Libc.EpollWait(epfd, ref events[0], max, 0);
        }
        else if (s_pwait2 == 1)
        {
            var ns = (long)(timeoutTicks * (1e9 / System.Diagnostics.Stopwatch.Frequency));
            var ts = new Libc.Timespec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
            try
            {
                n = Libc.EpollPwait2(epfd, ref events[0], max, ref ts, 0);
                if (n < 0 && Errno == ENOSYS)
                {
                    s_pwait2 = 0;
                    return 0;
                }
            }
            catch (EntryPointNotFoundException)
            {
                s_pwait2 = 0; // glibc before 2.35: fall back to millisecond waits from now on
                return 0;
            }
        }
        else
        {
            var ms = (int)Math.Min(int.MaxValue, (timeoutTicks * 1000 + System.Diagnostics.Stopwatch.Frequency - 1) / System.Diagnostics.Stopwatch.Frequency);
            n = Libc.EpollWait(epfd, ref events[0], max, ms);
        }
        if (n < 0)
        {
            return Errno == EINTR ? 0 : throw new SocketException(Errno);
        }
        return n;
    }

    /// <summary>The events mask of the i-th returned event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint EventMask(byte[] events, int i) => EpollEvents.Mask(events, i);

    /// <summary>The data word of the i-th returned event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EventData(byte[] events, int i) => EpollEvents.Data(events, i);

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
            error = Errno;
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
        error = Errno;
        if (error == EINPROGRESS)
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
        return Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, ref value, ref length) == 0 ? value : Errno;
    }

    /// <summary>recv(); bytes read, 0 at end of stream, -errno on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Receive(int fd, Span<byte> buffer) => Libc.Receive(fd, buffer);

    /// <summary>send() without SIGPIPE; bytes taken, or -errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Send(int fd, ReadOnlySpan<byte> data) => Libc.SendNoSignal(fd, data);

    public static void Close(int fd) => Libc.CloseQuietly(fd);

    /// <summary>Writes the native <c>sockaddr_in</c>/<c>sockaddr_in6</c> for an endpoint; returns its length.</summary>
    public static int WriteSockaddr(IPEndPoint endPoint, byte[] target)
    {
        Array.Clear(target);
        return SocketAddresses.Write(endPoint, target);
    }
}
