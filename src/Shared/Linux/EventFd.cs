namespace EchoKit.Internal.Linux;

/// <summary>
/// A non-blocking eventfd: how another thread wakes an event loop blocked in epoll_wait. Signals coalesce (the
/// kernel adds them up), and the loop drains them with one read.
/// </summary>
internal sealed class EventFd : IDisposable
{
    private int _fd;

    public EventFd()
    {
        _fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_fd < 0)
        {
            throw new System.Net.Sockets.SocketException((int)Errno.ToSocketError(Libc.LastPInvokeError));
        }
    }

    public int Fd => _fd;

    /// <summary>Makes the descriptor readable; safe from any thread.</summary>
    public void Signal()
    {
        ulong one = 1;
        // EAGAIN only when the counter is about to overflow: it is readable then anyway.
        Libc.Write(_fd, ref System.Runtime.CompilerServices.Unsafe.As<ulong, byte>(ref one), sizeof(ulong));
    }

    /// <summary>Takes every pending signal (the loop calls it when the descriptor is readable).</summary>
    public void Drain()
    {
        ulong value = 0;
        Libc.Read(_fd, ref System.Runtime.CompilerServices.Unsafe.As<ulong, byte>(ref value), sizeof(ulong));
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        Libc.CloseQuietly(fd);
    }
}
