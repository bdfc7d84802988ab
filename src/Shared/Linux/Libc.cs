using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// The one set of libc declarations of the repository. Every signature is blittable (<c>ref byte</c>, <c>int</c>,
/// <c>nint</c>), so the generated stubs only pin and Native AOT compiles them. The calls that never block (recv and
/// send on non-blocking sockets, the eventfd write) skip the GC transition and read errno straight after the call
/// (<see cref="LastError"/>): with no transition no runtime code runs in between that could change it.
/// </summary>
internal static partial class Libc
{
    private const string Name = "libc";

    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_NETLINK = 16;
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int NETLINK_ROUTE = 0;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int SO_RCVTIMEO = 20;
    public const int RLIMIT_NOFILE = 7;
    public const int SO_PEERCRED = 17;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_WAITFORONE = 0x10000;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int F_SETPIPE_SZ = 1031;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int SPLICE_F_MOVE = 1;
    public const int SPLICE_F_NONBLOCK = 2;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_INO = 0x100;
    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;
    public const int S_IFDIR = 0x4000;

    /// <summary>errno of the last call declared with <c>SetLastError</c>.</summary>
    public static int LastPInvokeError => Marshal.GetLastPInvokeError();

    /// <summary>errno as it is now: right after a call that skips the GC transition.</summary>
    public static int LastError => Marshal.GetLastSystemError();

    [LibraryImport(Name, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Name, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, ref byte evt);

    [LibraryImport(Name, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, ref byte events, int maxEvents, int timeoutMs);

    [LibraryImport(Name, EntryPoint = "epoll_pwait2", SetLastError = true)]
    public static partial int EpollPwait2(int epfd, ref byte events, int maxEvents, ref Timespec timeout, nint sigmask);

    [LibraryImport(Name, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Name, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, ref byte address, uint length);

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, ref int value, uint length);

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOptBytes(int fd, int level, int name, ref byte value, uint length);

    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, ref int value, ref uint length);

    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOptBytes(int fd, int level, int name, ref byte value, ref uint length);

    [LibraryImport(Name, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, ref byte address, ref uint length, int flags);

    [LibraryImport(Name, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, ref byte address, ref uint length);

    [LibraryImport(Name, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(Name, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Name, EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, ref ulong limits); // struct rlimit: two 64-bit values

    /// <summary>
    /// The descriptors this process may have open (<c>Limit</c>: RLIMIT_NOFILE's soft limit, which the .NET runtime
    /// raises to the hard limit as it starts) and how many of them it may still open now (<c>Free</c>: the limit less
    /// the entries of <c>/proc/self/fd</c>; 0 when not even the one that listing takes is free). Null where the limit
    /// cannot be read.
    /// </summary>
    public static (long Limit, long Free)? Descriptors()
    {
        Span<ulong> limits = stackalloc ulong[2];
        if (!IsSupported || GetRLimit(RLIMIT_NOFILE, ref limits[0]) != 0)
        {
            return null;
        }
        var limit = (long)Math.Min(limits[0], long.MaxValue);
        var open = OpenDescriptors();
        return (limit, open < 0 ? 0 : limit - open);
    }

    /// <summary>
    /// The entries of <c>/proc/self/fd</c> (the descriptor that reads it included), counted with getdents64() into a
    /// stack buffer: no string per entry, so the accept loops can count near the limit, with 10,000 clients open, without
    /// leaving garbage that grows the heap (Directory.EnumerateFileSystemEntries made 0.3 KiB per idle connection of
    /// S5). -1 when the directory cannot be read (no descriptor free to open it).
    /// </summary>
    private static long OpenDescriptors()
    {
        var fd = OpenDirectory(ProcSelfFd, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
        {
            return -1;
        }
        try
        {
            Span<byte> buffer = stackalloc byte[8192];
            var count = 0L;
            while (true)
            {
                var n = (long)GetDents64(fd, ref buffer[0], (nuint)buffer.Length);
                if (n <= 0)
                {
                    return n == 0 ? count : -1;
                }
                // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated).
                for (var at = 0; at < n; at += System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(buffer[(at + 16)..]))
                {
                    var name = buffer[(at + 19)..];
                    var dots = name[0] == (byte)'.' && (name[1] == 0 || (name[1] == (byte)'.' && name[2] == 0));
                    count += dots ? 0 : 1;
                }
            }
        }
        finally
        {
            Close(fd);
        }
    }

    private const int O_RDONLY = 0;

    private static readonly byte[] ProcSelfFd = "/proc/self/fd\0"u8.ToArray();

    [LibraryImport(Name, EntryPoint = "open", SetLastError = true)]
    private static partial int OpenDirectory(byte[] path, int flags);

    [LibraryImport(Name, EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64(int fd, ref byte buffer, nuint count);

    [LibraryImport(Name, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Name, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatxRaw(int directory, string path, int flags, uint mask, ref byte buffer);

    /// <summary>
    /// The type bits (<c>st_mode &amp; S_IFMT</c>) of <paramref name="path"/> itself, a symbolic link not followed (as
    /// lstat()): 0 with the type, or errno (ENOENT when nothing is there). .NET tells files from directories but not a
    /// socket from a regular file, which is what a listener must know before it removes a path. statx() (glibc 2.28)
    /// rather than lstat(): its layout is the same on every architecture, stx_mode a 16-bit field at byte 28.
    /// </summary>
    public static int FileType(string path, out int type) => FileType(path, out type, out _);

    /// <summary>
    /// As <see cref="FileType(string, out int)"/>, with the file's identity: its device and inode (stx_dev_major and
    /// stx_dev_minor at bytes 136 and 140, stx_ino at 32). A listener remembers the identity of the socket file it
    /// bound, so that at stop it removes that file and never one that has taken its place since.
    /// </summary>
    public static int FileType(string path, out int type, out FileIdentity identity)
    {
        Span<byte> statx = stackalloc byte[256]; // sizeof(struct statx)
        if (StatxRaw(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, ref statx[0]) != 0)
        {
            type = 0;
            identity = default;
            return LastPInvokeError;
        }
        type = MemoryMarshal.Read<ushort>(statx[28..]) & S_IFMT;
        identity = new FileIdentity(MemoryMarshal.Read<uint>(statx[136..]), MemoryMarshal.Read<uint>(statx[140..]), MemoryMarshal.Read<ulong>(statx[32..]));
        return 0;
    }

    /// <summary>A file's device (major, minor) and inode: equal for the same file, whatever its name.</summary>
    public readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode);

    [LibraryImport(Name, EntryPoint = "recv")]
    [SuppressGCTransition]
    public static partial nint Recv(int fd, ref byte buffer, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "send")]
    [SuppressGCTransition]
    public static partial nint Send(int fd, ref byte buffer, nuint length, int flags);

    /// <summary>send() that may block (a netlink request the kernel answers in the call): with the GC transition.</summary>
    [LibraryImport(Name, EntryPoint = "send", SetLastError = true)]
    public static partial nint SendBlocking(int fd, ref byte buffer, nuint length, int flags);

    /// <summary>recv() that may block (bounded by SO_RCVTIMEO): with the GC transition.</summary>
    [LibraryImport(Name, EntryPoint = "recv", SetLastError = true)]
    public static partial nint RecvBlocking(int fd, ref byte buffer, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "write")]
    [SuppressGCTransition]
    public static partial nint Write(int fd, ref byte buffer, nuint length);

    [LibraryImport(Name, EntryPoint = "read")]
    [SuppressGCTransition]
    public static partial nint Read(int fd, ref byte buffer, nuint length);

    [LibraryImport(Name, EntryPoint = "splice")]
    [SuppressGCTransition]
    private static partial nint SpliceRaw(int input, nint inputOffset, int output, nint outputOffset, nuint length, uint flags);

    [LibraryImport(Name, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport(Name, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, nint message, int flags);

    [LibraryImport(Name, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, nint message, int flags);

    [LibraryImport(Name, EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMmsg(int fd, nint messages, uint count, int flags, nint timeout);

    [LibraryImport(Name, EntryPoint = "sendmmsg", SetLastError = true)]
    public static partial int SendMmsg(int fd, nint messages, uint count, int flags);

    /// <summary><c>struct timespec</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>True where this layer's layouts hold: Linux on a 64-bit x86 or Arm processor.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && Environment.Is64BitProcess &&
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>recv() on a non-blocking socket: bytes read, 0 at end of stream, -errno on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Receive(int fd, Span<byte> buffer)
    {
        var n = Recv(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length, 0);
        return n >= 0 ? n : -LastError;
    }

    /// <summary>
    /// splice() of at most <paramref name="length"/> bytes from <paramref name="input"/> to <paramref name="output"/>
    /// (one of them a pipe), without blocking on the pipe: bytes moved, 0 at the input's end of stream, or -errno.
    /// Blocks no more than recv() and send() do on the same descriptors: call it only with non-blocking sockets. Unlike
    /// send() it has no MSG_NOSIGNAL: a splice to a closed socket raises SIGPIPE, which the .NET runtime ignores in
    /// every process it runs, so the call just fails with EPIPE.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Splice(int input, int output, int length)
    {
        var n = SpliceRaw(input, 0, output, 0, (nuint)length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        return n >= 0 ? n : -LastError;
    }

    /// <summary>A non-blocking, close-on-exec pipe: 0 with its two ends, or errno.</summary>
    public static int CreatePipe(out int readEnd, out int writeEnd)
    {
        Span<int> fds = stackalloc int[2];
        if (Pipe2(ref fds[0], O_NONBLOCK | O_CLOEXEC) != 0)
        {
            readEnd = writeEnd = -1;
            return LastPInvokeError;
        }
        readEnd = fds[0];
        writeEnd = fds[1];
        return 0;
    }

    /// <summary>send() without SIGPIPE: bytes taken, or -errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SendNoSignal(int fd, ReadOnlySpan<byte> data)
    {
        var n = Send(fd, ref MemoryMarshal.GetReference(data), (nuint)data.Length, MSG_NOSIGNAL);
        return n >= 0 ? n : -LastError;
    }

    /// <summary>
    /// accept4() of one queued client, non-blocking and close-on-exec: its descriptor, with its address in
    /// <paramref name="address"/> (<paramref name="addressLength"/> bytes); or -errno, -EAGAIN once the queue is empty
    /// (on a non-blocking listener). EINTR is retried.
    /// </summary>
    public static int AcceptNonBlocking(int listener, Span<byte> address, out int addressLength)
    {
        while (true)
        {
            var length = (uint)address.Length;
            var fd = Accept4(listener, ref MemoryMarshal.GetReference(address), ref length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
            {
                addressLength = (int)Math.Min(length, (uint)address.Length);
                return fd;
            }
            var errno = LastPInvokeError;
            if (errno != Errno.EINTR)
            {
                addressLength = 0;
                return -errno;
            }
        }
    }

    /// <summary>
    /// sendmsg() of one datagram to <paramref name="address"/> (a native <c>sockaddr</c>, <see cref="SocketAddresses.Write"/>)
    /// with the ancillary data in <paramref name="control"/> (empty for none), without SIGPIPE: bytes sent, or -errno.
    /// The message header lives on this thread's stack, so any thread may call it. EINTR is retried. The caller keeps
    /// <paramref name="fd"/> open for the call (a SafeHandle reference), since it may block on a full send buffer.
    /// </summary>
    public static unsafe long SendMessage(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<byte> address, ReadOnlySpan<byte> control)
    {
        fixed (byte* payload = data, name = address, ancillary = control)
        {
            var vector = stackalloc byte[MessageHeader.IovecSize];
            var header = stackalloc byte[MessageHeader.Size];
            var vectorSpan = new Span<byte>(vector, MessageHeader.IovecSize);
            var headerSpan = new Span<byte>(header, MessageHeader.Size);
            headerSpan.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(vectorSpan, (long)payload);
            BinaryPrimitives.WriteInt64LittleEndian(vectorSpan[8..], data.Length);
            BinaryPrimitives.WriteInt64LittleEndian(headerSpan[MessageHeader.NameOffset..], (long)name);
            BinaryPrimitives.WriteInt32LittleEndian(headerSpan[MessageHeader.NameLengthOffset..], address.Length);
            BinaryPrimitives.WriteInt64LittleEndian(headerSpan[MessageHeader.VectorOffset..], (long)vector);
            BinaryPrimitives.WriteInt64LittleEndian(headerSpan[MessageHeader.VectorCountOffset..], 1);
            BinaryPrimitives.WriteInt64LittleEndian(headerSpan[MessageHeader.ControlOffset..], control.IsEmpty ? 0 : (long)ancillary);
            BinaryPrimitives.WriteInt64LittleEndian(headerSpan[MessageHeader.ControlLengthOffset..], control.Length);
            while (true)
            {
                var sent = SendMsg(fd, (nint)header, MSG_NOSIGNAL);
                if (sent >= 0)
                {
                    return sent;
                }
                var errno = LastPInvokeError;
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>Closes a descriptor; negative values are ignored. EINTR still closes it on Linux, so there is no retry.</summary>
    public static void CloseQuietly(int fd)
    {
        if (fd >= 0)
        {
            Close(fd);
        }
    }

    /// <summary>A close-on-exec duplicate of <paramref name="fd"/>, or -errno.</summary>
    public static int Duplicate(int fd)
    {
        var copy = Fcntl(fd, F_DUPFD_CLOEXEC, 0);
        return copy >= 0 ? copy : -LastPInvokeError;
    }

    /// <summary>Sets O_NONBLOCK; returns 0 or errno.</summary>
    public static int SetNonBlocking(int fd)
    {
        var flags = Fcntl(fd, F_GETFL, 0);
        if (flags < 0 || Fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        {
            return LastPInvokeError;
        }
        return 0;
    }
}
