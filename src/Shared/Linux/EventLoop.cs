using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// One epoll loop. Descriptors are registered with a handler, level- or edge-triggered as the handler asks
/// (<see cref="EpollEvents.EPOLLET"/>), and dispatched one call per readiness report. The loop runs one of two ways:
/// <list type="bullet">
/// <item><see cref="Start"/>: on a thread of its own that waits without a timeout (the server's I/O loops);</item>
/// <item><see cref="Poll"/>: driven by its owner's thread, which waits at most until its own next deadline (the load
/// generator's workers, whose schedules and samples are due at given times).</item>
/// </list>
/// Other threads never touch the loop's descriptors: they <see cref="Post"/> a command, which wakes the loop through
/// its eventfd, and the loop runs it. So a descriptor is registered, changed and closed only on its own loop, and
/// the handler table needs no lock.
/// </summary>
internal sealed class EventLoop : IDisposable
{
    private const ulong WakeToken = ulong.MaxValue;

    private static bool s_pwait2 = true; // false once the kernel or libc lacks epoll_pwait2

    private readonly int _epoll;
    private readonly EventFd _wake = new();
    private readonly byte[] _events;
    private readonly ConcurrentQueue<(IEventLoopHandler Handler, int Command)> _commands = new();
    private readonly string _name;
    private Thread? _thread;   // the loop's own thread (Start), if it has one
    private Thread? _owner;    // the one thread that runs the loop: its own, or the first to call Poll
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SlotTable<IEventLoopHandler> _handlers = new(64); // by token
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
        _name = name;
    }

    /// <summary>Ends when the loop's thread has left (after <see cref="Stop"/>); never faults.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>
    /// Called when a handler or a command threw: the loop goes on, this is for whoever owns it to log. Without it,
    /// the exception leaves <see cref="Poll"/> (a driven loop's owner sees its own failures).
    /// </summary>
    public Action<Exception>? OnFault { get; init; }

    /// <summary>True on the thread that runs the loop.</summary>
    public bool IsOnLoop => Thread.CurrentThread == _owner;

    /// <summary>Runs the loop on a thread of its own until <see cref="Stop"/>.</summary>
    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = _name };
        _owner = _thread;
        _thread.Start();
    }

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
        var token = _handlers.Add(handler); // nothing can be reported for it before the ADD below
        var error = EpollEvents.Control(_epoll, EpollEvents.EPOLL_CTL_ADD, fd, events, (ulong)token);
        if (error != 0)
        {
            _handlers.Remove(token);
            return -error;
        }
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
        _handlers.Remove(token);
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
            while (true)
            {
                Poll(Timeout.Infinite);
                if (_stopping)
                {
                    RunCommands();
                    return;
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

    /// <summary>
    /// Waits at most <paramref name="timeoutTicks"/> <see cref="Stopwatch"/> ticks for readiness (0 only looks,
    /// <see cref="Timeout.Infinite"/> waits for as long as it takes), dispatches what is ready to its handlers, then
    /// runs the posted commands. Returns the count of descriptors dispatched. Only the loop's thread calls it: the
    /// first thread to call it owns a loop that was not <see cref="Start"/>ed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Poll(long timeoutTicks)
    {
        _owner ??= Thread.CurrentThread;
        var n = Wait(timeoutTicks);
        var woken = false;
        var dispatched = 0;
        for (var i = 0; i < n; i++)
        {
            var data = EpollEvents.Data(_events, i);
            if (data == WakeToken)
            {
                woken = true;
                continue;
            }
            // A handler earlier in this batch may have closed this one: its slot is empty (or reused, which at worst
            // costs the new owner one read that finds nothing and is told EAGAIN).
            var handler = _handlers[(int)data];
            if (handler is not null)
            {
                dispatched++;
                Dispatch(handler, EpollEvents.Mask(_events, i));
            }
        }
        if (woken)
        {
            _wake.Drain();
            Volatile.Write(ref _wakePending, 0);
            RunCommands();
        }
        return dispatched;
    }

    /// <summary>epoll_wait for at most <paramref name="timeoutTicks"/>; the count of events, 0 on timeout or EINTR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Wait(long timeoutTicks)
    {
        var max = _events.Length / EpollEvents.Size;
        int n;
        if (timeoutTicks <= 0)
        {
            n = Libc.EpollWait(_epoll, ref _events[0], max, timeoutTicks == Timeout.Infinite ? -1 : 0);
        }
        else if (s_pwait2)
        {
            // epoll_pwait2 takes nanoseconds, so a schedule due in 100 µs wakes on time rather than a millisecond late.
            var ns = (long)(timeoutTicks * (1e9 / Stopwatch.Frequency));
            var timeout = new Libc.Timespec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
            try
            {
                n = Libc.EpollPwait2(_epoll, ref _events[0], max, ref timeout, 0);
            }
            catch (EntryPointNotFoundException)
            {
                n = -1; // glibc before 2.35
                Marshal.SetLastPInvokeError(Errno.ENOSYS);
            }
            if (n < 0 && Libc.LastPInvokeError == Errno.ENOSYS)
            {
                s_pwait2 = false; // millisecond waits from now on
                return 0;
            }
        }
        else
        {
            var ms = (int)Math.Min(int.MaxValue, (timeoutTicks * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
            n = Libc.EpollWait(_epoll, ref _events[0], max, ms);
        }
        if (n < 0)
        {
            var errno = Libc.LastPInvokeError;
            return errno == Errno.EINTR ? 0 : throw new System.Net.Sockets.SocketException((int)Errno.ToSocketError(errno));
        }
        return n;
    }

    private void RunCommands()
    {
        while (_commands.TryDequeue(out var item))
        {
            try
            {
                item.Handler.OnCommand(item.Command);
            }
            catch (Exception ex) when (OnFault is not null)
            {
                OnFault(ex);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Dispatch(IEventLoopHandler handler, uint events)
    {
        try
        {
            handler.OnEvents(events);
        }
        catch (Exception ex) when (OnFault is not null)
        {
            OnFault(ex);
        }
    }

    /// <summary>Closes the epoll and wake descriptors; call after <see cref="Completion"/>.</summary>
    public void Dispose()
    {
        Stop();
        if (_thread is not null && !IsOnLoop && _thread.IsAlive)
        {
            _thread.Join();
        }
        Libc.CloseQuietly(_epoll);
        _wake.Dispose();
        _stopped.TrySetResult();
    }
}
