using System.Collections.Concurrent;

namespace EchoKit.Server.Internal;

/// <summary>
/// Owns every running connection and its task, so shutdown can wait for them and abort the rest:
/// no connection task is ever left unobserved.
/// </summary>
internal sealed class ConnectionTracker : IDisposable
{
    /// <summary>How often idle connections are asked to give their receive buffer back.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<long, TcpEchoConnection> _connections = new();
    private readonly ITimer _sweep;
    private long _nextId;

    public ConnectionTracker(TimeProvider time)
    {
        _sweep = time.CreateTimer(static state => ((ConnectionTracker)state!).Sweep(), this, SweepPeriod, SweepPeriod);
    }

    private void Sweep()
    {
        foreach (var connection in _connections.Values)
        {
            connection.SweepIdleBuffer();
        }
    }

    public void Dispose() => _sweep.Dispose();

    /// <summary>Connections open right now.</summary>
    public int Count => _connections.Count;

    /// <summary>Issues the next connection id (1, 2, ...), unique per server.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Starts <paramref name="connection"/> and keeps it until its task ends.</summary>
    public void Run(TcpEchoConnection connection)
    {
        _connections[connection.Id] = connection;
        connection.Start(this);
    }

    /// <summary>Called by a connection as its last act.</summary>
    public void Remove(TcpEchoConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>The open connections now, for diagnostics and tests.</summary>
    public IReadOnlyList<TcpEchoConnection> Snapshot() => _connections.Values.ToArray();

    /// <summary>A task that ends when every connection open now has ended.</summary>
    public Task WhenAllClosed() => Task.WhenAll(_connections.Values.Select(c => c.Completion));

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
