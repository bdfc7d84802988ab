using System.Net.Sockets;
using EchoKit.Internal;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// Accepts a plain TCP or Unix listener's clients on one of the epoll engine's loops: <c>accept4()</c> straight
/// into a non-blocking, close-on-exec descriptor and a pinned address buffer, so a client costs no managed
/// <see cref="Socket"/>, handle, endpoint or <c>dup()</c>. Each client is handed to
/// <see cref="TcpEchoListener.AcceptNative"/> (access list, limit, then the next loop in turn). A failed accept
/// (EMFILE, ENFILE, ENOBUFS...) is reported, and the listener is not watched for the back-off's wait (10 ms doubling
/// to 1 s, one timer per listener), then watched again: the listener lives on. Out of descriptors, it also gives up
/// the <see cref="DescriptorReserve"/> (the runtime needs descriptors to start threads) and resumes only once the
/// reserve is whole again; it also stops <see cref="DescriptorReserve.Headroom"/> short of the limit, as if out. The listening descriptor is registered, and at stop unregistered and closed, on the loop
/// only.
/// </summary>
internal sealed class EpollAcceptor : IEventLoopHandler
{
    private const int CommandStart = 0;
    private const int CommandStop = 1;
    private const int CommandResume = 2;

    /// <summary>Accepts per readiness report, so a connection storm cannot starve the loop's connections.</summary>
    private const int MaxAcceptsPerEvent = 64;

    private readonly Socket _listener;
    private readonly int _fd;
    private readonly EventLoop _loop;
    private readonly TcpEchoListener _owner;
    private readonly Action<SocketError, TimeSpan> _failed;
    private readonly byte[] _address = GC.AllocateArray<byte>(128, pinned: true); // sockaddr_un is 110 bytes
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AcceptBackoff _backoff;
    private readonly ITimer _resume;
    private int _token = -1;
    private volatile bool _closing; // set by Stop, on any thread
    private bool _closed;    // loop thread only
    private bool _paused;    // loop thread only: not watched while backing off

    /// <param name="listener">The listening socket; owned from now on (closed on the loop at stop).</param>
    /// <param name="loop">The loop that accepts.</param>
    /// <param name="owner">Takes each accepted descriptor.</param>
    /// <param name="failed">Reports a failed accept and the wait before the next.</param>
    /// <param name="time">Clock for the back-off (its one timer is made here).</param>
    public EpollAcceptor(Socket listener, EventLoop loop, TcpEchoListener owner, Action<SocketError, TimeSpan> failed, TimeProvider time)
    {
        _listener = listener;
        _listener.Blocking = false; // accept4() must say EAGAIN, never wait, on the loop
        _fd = (int)listener.SafeHandle.DangerousGetHandle();
        _loop = loop;
        _owner = owner;
        _failed = failed;
        // Made and scheduled once now, not first at an EMFILE: the runtime starts its timer thread when a timer is
        // first due, and starting a thread fails (OutOfMemoryException, seen with a low descriptor limit) once the
        // process has no descriptor left; the listener would then never be watched again. The priming run posts a
        // resume that finds nothing paused.
        _resume = time.CreateTimer(static state => ((EpollAcceptor)state!).Resume(), this, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        DescriptorReserve.EnsureFilled();
    }

    /// <summary>Ends once the listening descriptor is closed (after <see cref="Stop"/>); never faults.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Registers the listener on its loop.</summary>
    public void Start() => _loop.Post(this, CommandStart);

    /// <summary>
    /// Refuses new clients at once and closes the listener on its loop; safe from any thread, harmless twice.
    /// shutdown() here, on the caller's thread, makes the kernel refuse connects before this returns (the stop order
    /// promises it); the descriptor itself is still closed only on its loop.
    /// </summary>
    public void Stop()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        Libc.Shutdown(_fd, Libc.SHUT_RDWR);
        _loop.Post(this, CommandStop);
    }

    public void OnCommand(int command)
    {
        if (_closed)
        {
            return;
        }
        switch (command)
        {
            case CommandStart:
                var token = _loop.Register(_fd, EpollEvents.EPOLLIN, this);
                if (token < 0)
                {
                    throw new SocketException((int)Errno.ToSocketError(-token)); // the loop's fault handler logs it
                }
                _token = token;
                break;
            case CommandResume when _paused && _token >= 0:
                if (!DescriptorReserve.Refill())
                {
                    // Still out of descriptors (no client has left): accepting now would take the runtime's last ones.
                    Pause(Errno.EMFILE);
                    break;
                }
                _paused = false;
                Watch(EpollEvents.EPOLLIN);
                break;
            case CommandStop:
                Close();
                break;
            default:
                break;
        }
    }

    public void OnEvents(uint events)
    {
        if (_closing)
        {
            Close(); // shut down: the listener reports readiness until it is closed
            return;
        }
        for (var i = 0; i < MaxAcceptsPerEvent && !_paused; i++)
        {
            if (!DescriptorReserve.MayAccept())
            {
                Pause(Errno.EMFILE); // short of the limit by the reserve's headroom, as the sockets engine stops
                return;
            }
            var fd = Libc.AcceptNonBlocking(_fd, _address, out var length);
            if (fd >= 0)
            {
                _backoff.Reset();
                _owner.AcceptNative(fd, _address.AsSpan(0, length));
                continue;
            }
            if (fd == -Errno.EAGAIN)
            {
                return; // drained; level-triggered reports the next
            }
            Pause(-fd);
        }
    }

    private void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        if (_token >= 0)
        {
            _loop.Unregister(_fd, _token);
            _token = -1;
        }
        _resume.Dispose();
        _listener.Dispose();
        _stopped.TrySetResult();
    }

    /// <summary>After a failed accept: stop watching the listener for the back-off's wait, then watch it again.</summary>
    private void Pause(int errno)
    {
        var error = Errno.ToSocketError(errno);
        if (DescriptorReserve.IsOutOfDescriptors(error))
        {
            DescriptorReserve.Release();
        }
        var delay = _backoff.Next();
        _failed(error, delay);
        _paused = true;
        Watch(0);
        _resume.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void Resume() => _loop.Post(this, CommandResume);

    private void Watch(uint events)
    {
        var error = _loop.Modify(_fd, _token, events);
        if (error != 0)
        {
            throw new SocketException((int)Errno.ToSocketError(error));
        }
    }
}
