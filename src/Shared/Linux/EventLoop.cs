using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// One epoll loop on its own thread. Descriptors are registered with a handler and dispatched level-triggered: one
/// readiness report, one call. Other threads never touch the loop's descriptors: they <see cref="Post"/> a command,
/// which wakes the loop through its eventfd, and the loop runs it. So a descriptor is registered, changed and closed
/// only on its own loop, and the handler table needs no lock.
/// </summary>
internal sealed class EventLoop : IDisposable
{
    private const ulong WakeToken = ulong.MaxValue;

    private readonly int _epoll;
    private readonly EventFd _wake = new();
    private readonly byte[] _events;
    private readonly ConcurrentQueue<(IEventLoopHandler Handler, int Command)> _commands = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IEventLoopHandler?[] _handlers = new IEventLoopHandler?[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _used;
    private int _wakePending;
    private volatile bool _stopping;

    /// <param name="name">The thread's name.</param>
    /// <param name="maxEvents">Events taken per epoll_wait.</param>
    public EventLoop(string name, int maxEvents = 256)
    {
        _epoll = EpollEvents.Create();
        _events = GC.AllocateArray<byte>(maxEvents * EpollEvents.Size, pinned: true);
        var error = EpollEvents.Control(_epoll, EpollEvents.EPOLL_CTL_ADD, _wake.Fd, EpollEvents.EPOLLIN, WakeToken);
        if (error != 0)
        {
            Libc.CloseQuietly(_epoll);
            _wake.Dispose();
            throw new System.Net.Sockets.SocketException((int)Errno.ToSocketError(error));
        }
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>Ends when the loop's thread has left (after <see cref="Stop"/>); never faults.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Set by the loop when a handler threw: the loop went on, this is for whoever owns it to log.</summary>
    public Action<Exception>? OnFault { get; init; }

    /// <summary>True on the loop's own thread.</summary>
    public bool IsOnLoop => Thread.CurrentThread == _thread;

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="handler"/>.<see cref="IEventLoopHandler.OnCommand"/> on the loop; safe from any thread.</summary>
    public void Post(IEventLoopHandler handler, int command)
    {
        _commands.Enqueue((handler, command));
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _wake.Signal();
        }
    }

    /// <summary>Registers <paramref name="fd"/> for <paramref name="events"/>; loop thread only. Returns the token, or -errno.</summary>
    public int Register(int fd, uint events, IEventLoopHandler handler)
    {
        int token;
        if (_freeCount > 0)
        {
            token = _free[--_freeCount];
        }
        else
        {
            if (_used == _handlers.Length)
            {
                Array.Resize(ref _handlers, _handlers.Length * 2);
                Array.Resize(ref _free, _handlers.Length);
            }
            token = _used++;
        }
        var error = EpollEvents.Control(_epoll, EpollEvents.EPOLL_CTL_ADD, fd, events, (ulong)token);
        if (error != 0)
        {
            _free[_freeCount++] = token;
            return -error;
        }
        _handlers[token] = handler;
        return token;
    }

    /// <summary>Changes the events <paramref name="fd"/> is watched for; loop thread only. Returns 0 or errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Modify(int fd, int token, uint events) => EpollEvents.Control(_epoll, EpollEvents.EPOLL_CTL_MOD, fd, events, (ulong)token);

    /// <summary>Forgets <paramref name="token"/> before its descriptor is closed; loop thread only.</summary>
    public void Unregister(int fd, int token)
    {
        // close() alone would remove it too; removing it first keeps a duplicate of the descriptor from reporting on.
        EpollEvents.Control(_epoll, EpollEvents.EPOLL_CTL_DEL, fd, 0, 0);
        _handlers[token] = null;
        _free[_freeCount++] = token;
    }

    /// <summary>Asks the loop to leave after the commands already posted; safe from any thread, harmless twice.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Signal();
    }

    private void Run()
    {
        try
        {
            var max = _events.Length / EpollEvents.Size;
            while (true)
            {
                var n = Libc.EpollWait(_epoll, ref _events[0], max, -1);
                if (n < 0)
                {
                    var errno = Libc.LastPInvokeError;
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }
                    throw new System.Net.Sockets.SocketException((int)Errno.ToSocketError(errno));
                }
                var woken = false;
                for (var i = 0; i < n; i++)
                {
                    var data = EpollEvents.Data(_events, i);
                    if (data == WakeToken)
                    {
                        woken = true;
                        continue;
                    }
                    // A handler earlier in this batch may have closed this one: its slot is empty (or reused, which
                    // at worst costs the new owner one read that finds nothing, as level-triggered reports may).
                    var handler = _handlers[(int)data];
                    if (handler is not null)
                    {
                        Dispatch(handler, EpollEvents.Mask(_events, i));
                    }
                }
                if (woken)
                {
                    _wake.Drain();
                    Volatile.Write(ref _wakePending, 0);
                    RunCommands();
                    if (_stopping)
                    {
                        RunCommands();
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            OnFault?.Invoke(ex);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void RunCommands()
    {
        while (_commands.TryDequeue(out var item))
        {
            try
            {
                item.Handler.OnCommand(item.Command);
            }
            catch (Exception ex)
            {
                OnFault?.Invoke(ex);
            }
        }
    }

    private void Dispatch(IEventLoopHandler handler, uint events)
    {
        try
        {
            handler.OnEvents(events);
        }
        catch (Exception ex)
        {
            OnFault?.Invoke(ex);
        }
    }

    /// <summary>Closes the epoll and wake descriptors; call after <see cref="Completion"/>.</summary>
    public void Dispose()
    {
        Stop();
        if (!IsOnLoop && _thread.IsAlive)
        {
            _thread.Join();
        }
        Libc.CloseQuietly(_epoll);
        _wake.Dispose();
    }
}
