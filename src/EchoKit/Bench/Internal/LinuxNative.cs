using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EchoKit.Bench.Internal;

/// <summary>
/// The few Linux calls the load engine makes directly: epoll, non-blocking connect, recv and send on raw descriptors.
/// The engine drives many sockets from one thread per core, like the C load generator it is measured against, so it
/// uses the same calls: <see cref="Socket"/>'s own engine would add a wasted receive attempt, locks and a state
/// machine per message, which on loopback is a measurable share of the work. Every signature is blittable
/// (<c>ref byte</c>, <c>int</c>, <c>nint</c>), so no marshalling code runs and Native AOT compiles the stubs.
/// Constants are the generic Linux ones (x86-64 and arm64 agree on all of them).
/// </summary>
internal static class LinuxNative
{
    private const string Libc = "libc";

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EINPROGRESS = 115;

    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int MSG_NOSIGNAL = 0x4000;

    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>
    /// Size of <c>struct epoll_event</c>: packed (12 bytes) on x86-64, naturally aligned (16) elsewhere. The data
    /// field follows the events field at offset 4 or 8.
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;

    private static readonly int EpollDataOffset = EpollEventSize == 12 ? 4 : 8;
    private static int s_pwait2 = 1; // 1 = try epoll_pwait2, 0 = the kernel or libc lacks it

    /// <summary>True where this engine runs: Linux, on a 64-bit process.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    [DllImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int EpollCreate1(int flags);

    [DllImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epfd, int op, int fd, ref byte evt);

    [DllImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int EpollWaitNative(int epfd, ref byte events, int maxEvents, int timeoutMs);

    [DllImport(Libc, EntryPoint = "epoll_pwait2", SetLastError = true)]
    private static extern int EpollPwait2Native(int epfd, ref byte events, int maxEvents, ref Timespec timeout, nint sigmask);

    [DllImport(Libc, EntryPoint = "socket", SetLastError = true)]
    private static extern int SocketNative(int domain, int type, int protocol);

    [DllImport(Libc, EntryPoint = "connect", SetLastError = true)]
    private static extern int ConnectNative(int fd, ref byte address, uint length);

    [DllImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    private static extern int SetSockOpt(int fd, int level, int name, ref int value, uint length);

    [DllImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    private static extern int GetSockOpt(int fd, int level, int name, ref int value, ref uint length);

    // recv and send run on non-blocking sockets: they never wait, they only do the kernel's few microseconds of
    // TCP work. So they skip the GC transition (two per call, per message in a closed loop), and errno is read right
    // after the call: with no transition, no runtime code runs in between that could change it.
    [DllImport(Libc, EntryPoint = "recv")]
    [SuppressGCTransition]
    private static extern nint RecvNative(int fd, ref byte buffer, nuint length, int flags);

    [DllImport(Libc, EntryPoint = "send")]
    [SuppressGCTransition]
    private static extern nint SendNative(int fd, ref byte buffer, nuint length, int flags);

    [DllImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static extern int CloseNative(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>A new epoll descriptor, or throws.</summary>
    public static int CreateEpoll()
    {
        var fd = EpollCreate1(EPOLL_CLOEXEC);
        return fd >= 0 ? fd : throw new SocketException(Errno);
    }

    /// <summary>Adds, modifies or removes <paramref name="fd"/> in an epoll set; returns errno or 0.</summary>
    public static int Control(int epfd, int op, int fd, uint events, ulong data)
    {
        Span<byte> evt = stackalloc byte[16];
        evt.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(evt, events);
        BinaryPrimitives.WriteUInt64LittleEndian(evt[EpollDataOffset..], data);
        return EpollCtl(epfd, op, fd, ref evt[0]) == 0 ? 0 : Errno;
    }

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
            n = EpollWaitNative(epfd, ref events[0], max, 0);
        }
        else if (s_pwait2 == 1)
        {
            var ns = (long)(timeoutTicks * (1e9 / System.Diagnostics.Stopwatch.Frequency));
            var ts = new Timespec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
            try
            {
                n = EpollPwait2Native(epfd, ref events[0], max, ref ts, 0);
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
            n = EpollWaitNative(epfd, ref events[0], max, ms);
        }
        if (n < 0)
        {
            return Errno == EINTR ? 0 : throw new SocketException(Errno);
        }
        return n;
    }

    /// <summary>The events mask of the i-th returned event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint EventMask(byte[] events, int i) => BinaryPrimitives.ReadUInt32LittleEndian(events.AsSpan(i * EpollEventSize));

    /// <summary>The data word of the i-th returned event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EventData(byte[] events, int i) => BinaryPrimitives.ReadUInt64LittleEndian(events.AsSpan(i * EpollEventSize + EpollDataOffset));

    /// <summary>
    /// Opens a non-blocking socket and starts connecting it. Returns the descriptor (connected, or connecting when
    /// <paramref name="inProgress"/>), or -1 with <paramref name="error"/> set to errno.
    /// </summary>
    public static int StartConnect(byte[] sockaddr, int sockaddrLength, int family, bool stream, out bool inProgress, out int error)
    {
        inProgress = false;
        var fd = SocketNative(family, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            error = Errno;
            return -1;
        }
        if (stream)
        {
            var one = 1;
            SetSockOpt(fd, IPPROTO_TCP, TCP_NODELAY, ref one, sizeof(int));
        }
        if (ConnectNative(fd, ref sockaddr[0], (uint)sockaddrLength) == 0)
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
        CloseNative(fd);
        return -1;
    }

    /// <summary>The pending error of a socket (SO_ERROR): 0 once a non-blocking connect succeeded.</summary>
    public static int PendingError(int fd)
    {
        var value = 0;
        var length = (uint)sizeof(int);
        return GetSockOpt(fd, SOL_SOCKET, SO_ERROR, ref value, ref length) == 0 ? value : Errno;
    }

    /// <summary>recv(); bytes read, 0 at end of stream, -errno on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Receive(int fd, Span<byte> buffer)
    {
        var n = RecvNative(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length, 0);
        return n >= 0 ? n : -Marshal.GetLastSystemError();
    }

    /// <summary>send() without SIGPIPE; bytes taken, or -errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Send(int fd, ReadOnlySpan<byte> data)
    {
        var n = SendNative(fd, ref MemoryMarshal.GetReference(data), (nuint)data.Length, MSG_NOSIGNAL);
        return n >= 0 ? n : -Marshal.GetLastSystemError();
    }

    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            CloseNative(fd);
        }
    }

    /// <summary>Writes the native <c>sockaddr_in</c>/<c>sockaddr_in6</c> for an endpoint; returns its length.</summary>
    public static int WriteSockaddr(IPEndPoint endPoint, byte[] target)
    {
        Array.Clear(target);
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(target, AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(target.AsSpan(2), (ushort)endPoint.Port);
            endPoint.Address.TryWriteBytes(target.AsSpan(4, 4), out _);
            return 16;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(target, AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(target.AsSpan(2), (ushort)endPoint.Port);
        endPoint.Address.TryWriteBytes(target.AsSpan(8, 16), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(target.AsSpan(24), (uint)endPoint.Address.ScopeId);
        return 28;
    }
}
