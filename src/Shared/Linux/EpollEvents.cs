using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// The epoll constants and the layout of <c>struct epoll_event</c>: packed (12 bytes, data at offset 4) on x86-64,
/// naturally aligned (16 bytes, data at 8) on arm64. Events are read from and written to plain byte arrays, so no
/// unsafe code and no marshalling is needed.
/// </summary>
internal static class EpollEvents
{
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 0x80000000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const int EPOLL_CLOEXEC = 0x80000;

    /// <summary>Size of one <c>struct epoll_event</c> on this processor.</summary>
    public static readonly int Size = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;

    private static readonly int DataOffset = Size == 12 ? 4 : 8;

    /// <summary>The events mask of the i-th event in <paramref name="events"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Mask(byte[] events, int i) => BinaryPrimitives.ReadUInt32LittleEndian(events.AsSpan(i * Size));

    /// <summary>The data word of the i-th event in <paramref name="events"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Data(byte[] events, int i) => BinaryPrimitives.ReadUInt64LittleEndian(events.AsSpan(i * Size + DataOffset));

    /// <summary>epoll_ctl(): adds, modifies or removes <paramref name="fd"/>; returns 0 or errno.</summary>
    public static int Control(int epfd, int op, int fd, uint events, ulong data)
    {
        Span<byte> evt = stackalloc byte[16];
        evt.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(evt, events);
        BinaryPrimitives.WriteUInt64LittleEndian(evt[DataOffset..], data);
        return Libc.EpollCtl(epfd, op, fd, ref evt[0]) == 0 ? 0 : Libc.LastPInvokeError;
    }

    /// <summary>A new close-on-exec epoll descriptor, or throws.</summary>
    public static int Create()
    {
        var fd = Libc.EpollCreate1(EPOLL_CLOEXEC);
        return fd >= 0 ? fd : throw new System.Net.Sockets.SocketException((int)Errno.ToSocketError(Libc.LastPInvokeError));
    }
}
