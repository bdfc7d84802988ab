using System.Runtime.InteropServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// A pipe that moves a socket's bytes back out without copying them into this process (splice(2)):
/// <see cref="Fill"/> takes what a socket has received into the pipe as references to the kernel's own pages, and
/// <see cref="Empty"/> hands those pages to a socket's send queue. For bulk data that saves both copies a recv() and
/// send() pair makes; for a few bytes it costs more than the copies it saves, so callers use it only for reads that
/// came in large.
/// <para>
/// One pipe serves many sockets in turn, so it is empty between uses: whatever a socket would not take is either taken
/// out with <see cref="Take"/> (to be sent later from memory) or thrown away with <see cref="Discard"/> (the socket
/// failed), before the next <see cref="Fill"/>. Bytes of one connection can never reach another. One thread only.
/// </para>
/// </summary>
internal sealed class SplicePipe : IDisposable
{
    /// <summary>The most a pipe is asked to hold (Linux's default /proc/sys/fs/pipe-max-size).</summary>
    private const int MaxCapacity = 1024 * 1024;

    private int _read;
    private int _write;

    private SplicePipe(int read, int write, int capacity)
    {
        _read = read;
        _write = write;
        Capacity = capacity;
    }

    /// <summary>
    /// The pipe's size in bytes. A pipe holds a fixed count of pages, and a splice from a socket takes one per piece of
    /// data the socket holds however small, so a <see cref="Fill"/> may stop short of it.
    /// </summary>
    public int Capacity { get; }

    /// <summary>False once the pipe broke and no new one could be made: callers copy instead.</summary>
    public bool IsOpen => _write >= 0;

    /// <summary>Bytes in the pipe: 0 between uses.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// A pipe of about <paramref name="capacity"/> bytes (the kernel rounds up to a power of two pages; where it
    /// refuses, the default 64 KiB), or null where pipes cannot be made (out of descriptors): callers then copy.
    /// </summary>
    public static SplicePipe? TryCreate(int capacity)
    {
        if (Libc.CreatePipe(out var read, out var write) != 0)
        {
            return null;
        }
        var size = Libc.Fcntl(write, Libc.F_SETPIPE_SZ, Math.Clamp(capacity, 4096, MaxCapacity));
        return new SplicePipe(read, write, size > 0 ? size : 64 * 1024);
    }

    /// <summary>
    /// Moves what <paramref name="socket"/> has received, at most <paramref name="max"/> bytes, into the empty pipe:
    /// bytes moved, 0 at the end of the stream, or -errno (-EAGAIN when there was nothing). A short count does not
    /// mean the socket is drained (the pipe may have run out of pages): only -EAGAIN does.
    /// </summary>
    public long Fill(int socket, int max)
    {
        if (Count != 0)
        {
            throw new InvalidOperationException("the pipe still holds another socket's bytes");
        }
        var n = Libc.Splice(socket, _write, Math.Min(max, Capacity));
        if (n > 0)
        {
            Count = (int)n;
        }
        return n;
    }

    /// <summary>
    /// Sends the pipe's bytes to <paramref name="socket"/> until the pipe is empty or the socket will take no more.
    /// Returns the bytes sent, with <paramref name="errno"/> 0 when the pipe is empty, EAGAIN when the socket is full,
    /// or why the socket failed; in the last two cases <see cref="Count"/> bytes are left for <see cref="Take"/> or
    /// <see cref="Discard"/>.
    /// </summary>
    public int Empty(int socket, out int errno)
    {
        var sent = 0;
        while (Count > 0)
        {
            var n = Libc.Splice(_read, socket, Count);
            if (n > 0)
            {
                Count -= (int)n;
                sent += (int)n;
            }
            else if (n != -Errno.EINTR)
            {
                errno = n == 0 ? Errno.EPIPE : (int)-n;
                return sent;
            }
        }
        errno = 0;
        return sent;
    }

    /// <summary>
    /// Reads what is left in the pipe into <paramref name="into"/>, as much as fits, and returns the bytes read. Only
    /// if the pipe broke (which a pipe known to hold bytes does not do) is it short of both: then the pipe is made
    /// anew, empty, the caller has lost those bytes and must fail its connection.
    /// </summary>
    public int Take(Span<byte> into)
    {
        var taken = 0;
        while (Count > 0 && taken < into.Length)
        {
            var want = Math.Min(Count, into.Length - taken);
            var n = Libc.Read(_read, ref MemoryMarshal.GetReference(into[taken..]), (nuint)want);
            if (n > 0)
            {
                Count -= (int)n;
                taken += (int)n;
            }
            else if (n == 0 || Libc.LastError != Errno.EINTR)
            {
                Renew(); // nothing may stay behind for the next socket
                break;
            }
        }
        return taken;
    }

    /// <summary>Throws away what is left in the pipe (its socket failed), reading it into <paramref name="scratch"/>.</summary>
    public void Discard(Span<byte> scratch)
    {
        while (Count > 0)
        {
            Take(scratch);
        }
    }

    /// <summary>Replaces the pipe with a new, empty one, or with none (<see cref="IsOpen"/> false) if that fails.</summary>
    private void Renew()
    {
        Libc.CloseQuietly(_read);
        Libc.CloseQuietly(_write);
        Count = 0;
        if (Libc.CreatePipe(out _read, out _write) == 0)
        {
            Libc.Fcntl(_write, Libc.F_SETPIPE_SZ, Capacity);
        }
    }

    public void Dispose()
    {
        Libc.CloseQuietly(Interlocked.Exchange(ref _read, -1));
        Libc.CloseQuietly(Interlocked.Exchange(ref _write, -1));
        Count = 0;
    }
}
