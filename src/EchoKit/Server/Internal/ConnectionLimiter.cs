namespace EchoKit.Server.Internal;

/// <summary>
/// Connection-limit permits, shared by every stream listener of a server. A permit is taken right after accept and
/// before anything is read; without one the connection is closed at once. Lock-free: two interlocked operations per
/// connection.
/// </summary>
internal sealed class ConnectionLimiter(int max)
{
    private int _count;

    public int Max { get; } = max;

    /// <summary>Permits held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a permit if one is free; the caller must <see cref="Release"/> it exactly once.</summary>
    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _count) <= Max)
        {
            return true;
        }
        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _count);
}
