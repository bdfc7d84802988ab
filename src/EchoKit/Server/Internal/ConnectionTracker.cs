using System.Collections.Concurrent;

namespace EchoKit.Server.Internal;

/// <summary>
/// Owns every running connection (and its task, when it has one), so shutdown can wait for them and abort the rest:
/// no connection task is ever left unobserved.
/// </summary>
internal sealed class ConnectionTracker : IDisposable
{
    /// <summary>How often idle connections are asked to give their receive buffer back.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<long, TcpEchoConnection> _connections = new();
    private readonly TimeProvider _time;
    private readonly Lock _lock = new(); // the sweep timer's creation and disposal, and the all-closed source
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
        foreach (var connection in _connections.Values)
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

    /// <summary>Connections open right now (a counter: the dictionary's Count would take all its locks).</summary>
    public int Count => Volatile.Read(ref _open);

    /// <summary>Issues the next connection id (1, 2, ...), unique per server.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Starts <paramref name="connection"/> and keeps it until it ends (<see cref="Remove"/>).</summary>
    public void Run(TcpEchoConnection connection)
    {
        _connections[connection.Id] = connection;
        Interlocked.Increment(ref _open);
        connection.Start(this);
    }

    /// <summary>Called by a connection as its last act.</summary>
    public void Remove(TcpEchoConnection connection)
    {
        if (_connections.TryRemove(connection.Id, out _) && Interlocked.Decrement(ref _open) == 0)
        {
            Volatile.Read(ref _allClosed)?.TrySetResult();
        }
    }

    /// <summary>The open connections now, for diagnostics and tests.</summary>
    public IReadOnlyList<TcpEchoConnection> Snapshot() => _connections.Values.ToArray();

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
        foreach (var connection in _connections.Values)
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
    /// (timestamps of the server's <see cref="TimeProvider"/>). Enumerating the dictionary takes no lock.
    /// </summary>
    public void CloseIdle(long now, long idleTicks)
    {
        foreach (var pair in _connections)
        {
            pair.Value.CloseIfIdle(now, idleTicks);
        }
    }

    /// <summary>Closes every open connection at once; their tasks then end promptly.</summary>
    public void AbortAll()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Abort();
        }
    }
}
