using EchoKit.Internal;

namespace EchoKit.Server.Internal;

/// <summary>
/// Owns every running connection (and its task, when it has one), so shutdown can wait for them and abort the rest:
/// no connection task is ever left unobserved. The connections sit in a table of slots, each connection knowing its
/// own: an idle connection costs the tracker one reference and one free-list entry (12 bytes), where a concurrent
/// dictionary costs a 48-byte node and a bucket (docs/benchmarks.md, "eighth pass"). Adding and removing take a lock
/// held for a few instructions; walking the table (sweeps, shutdown, diagnostics) takes none.
/// </summary>
internal sealed class ConnectionTracker : IDisposable
{
    /// <summary>How often idle connections are asked to give their receive buffer back.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new(); // the sweep timer's creation and disposal, and the all-closed source
    private readonly Lock _slotsLock = new(); // the table: adding and removing
    private readonly SlotTable<TcpEchoConnection> _slots = new(64); // walked without the lock
    private ITimer? _sweep;
    private bool _disposed;
    private TaskCompletionSource? _allClosed; // made by WhenAllClosed, completed by the last Remove
    private int _open;
    private long _nextId;

    public ConnectionTracker(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>
    /// Starts the buffer sweep, once: called when a connection on the System.Net.Sockets engine starts echoing. A
    /// server whose connections all run on the epoll engine has no buffers to sweep, so it never wakes for it.
    /// </summary>
    public void EnsureSweeping()
    {
        if (Volatile.Read(ref _sweep) is not null)
        {
            return;
        }
        lock (_lock)
        {
            if (_sweep is null && !_disposed)
            {
                Volatile.Write(ref _sweep, _time.CreateTimer(static state => ((ConnectionTracker)state!).Sweep(), this, SweepPeriod, SweepPeriod));
            }
        }
    }

    private void Sweep()
    {
        foreach (var connection in Walk())
        {
            connection.SweepIdleBuffer();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _sweep?.Dispose();
        }
    }

    /// <summary>Connections open right now.</summary>
    public int Count => Volatile.Read(ref _open);

    /// <summary>Issues the next connection id (1, 2, ...), unique per server.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Starts <paramref name="connection"/> and keeps it until it ends (<see cref="Remove"/>).</summary>
    public void Run(TcpEchoConnection connection)
    {
        lock (_slotsLock)
        {
            connection.TrackerSlot = _slots.Add(connection);
        }
        Interlocked.Increment(ref _open);
        connection.Start(this);
    }

    /// <summary>Called by a connection as its last act; harmless for one the tracker does not hold.</summary>
    public void Remove(TcpEchoConnection connection)
    {
        lock (_slotsLock)
        {
            var slot = connection.TrackerSlot;
            if (slot < 0 || !ReferenceEquals(_slots[slot], connection))
            {
                return;
            }
            _slots.Remove(slot);
            connection.TrackerSlot = -1;
        }
        if (Interlocked.Decrement(ref _open) == 0)
        {
            Volatile.Read(ref _allClosed)?.TrySetResult();
        }
    }

    /// <summary>
    /// The connections in the table, without a lock: every connection added before the walk began and not removed
    /// since is seen; one added or removed meanwhile may or may not be (acting on one that has just ended is harmless:
    /// its close requests find it closed).
    /// </summary>
    private IEnumerable<TcpEchoConnection> Walk()
    {
        var slots = _slots.Items;
        for (var i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is { } connection)
            {
                yield return connection;
            }
        }
    }

    /// <summary>The open connections now, for diagnostics and tests.</summary>
    public IReadOnlyList<TcpEchoConnection> Snapshot() => Walk().ToArray();

    /// <summary>
    /// A task that ends when every connection open now has ended; call it once no new connection can come (the
    /// listeners stopped). A connection on the epoll engine has no task of its own (it would cost every idle
    /// connection a Task): it has ended when it leaves the tracker. Tasks that run connections are awaited too.
    /// </summary>
    public Task WhenAllClosed()
    {
        TaskCompletionSource empty;
        lock (_lock)
        {
            empty = _allClosed is { Task.IsCompleted: false } pending ? pending : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _allClosed, empty);
        }
        if (Volatile.Read(ref _open) == 0)
        {
            empty.TrySetResult(); // the last Remove ran before the source was published
        }
        var tasks = new List<Task> { empty.Task };
        foreach (var connection in Walk())
        {
            if (!connection.Completion.IsCompleted)
            {
                tasks.Add(connection.Completion);
            }
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>
    /// Closes, with reason idle, every connection quiet since <paramref name="now"/> minus <paramref name="idleTicks"/>
    /// (timestamps of the server's <see cref="TimeProvider"/>).
    /// </summary>
    public void CloseIdle(long now, long idleTicks)
    {
        foreach (var connection in Walk())
        {
            connection.CloseIfIdle(now, idleTicks);
        }
    }

    /// <summary>Closes every open connection at once; their tasks then end promptly.</summary>
    public void AbortAll()
    {
        foreach (var connection in Walk())
        {
            connection.Abort();
        }
    }
}
