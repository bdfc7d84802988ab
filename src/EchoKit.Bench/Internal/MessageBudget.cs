namespace EchoKit.Bench.Internal;

/// <summary>
/// The messages a TCP message-count run (<c>-n</c>) has still to give out, shared by its workers. A worker takes a
/// batch whenever its own runs out, so a worker that gets through its messages faster takes more, and every worker keeps
/// its connections' windows full until the count is nearly reached. Split up front instead, the worker sharing its core
/// with the server finished last, alone: with 2 workers, <c>-n 100000 -c 8 --pipeline 4</c> read a Little's-law ratio of
/// 0.89–0.95 (docs/bench.md). Messages taken are never given back.
/// </summary>
internal sealed class MessageBudget(long total)
{
    private long _left = total;

    /// <summary>True once every message has been given out (and so for the rest of the run).</summary>
    public bool IsEmpty => Volatile.Read(ref _left) <= 0;

    /// <summary>Takes up to <paramref name="most"/> messages; returns how many were taken (0 once empty). Any thread.</summary>
    public long Take(long most)
    {
        while (true)
        {
            var left = Volatile.Read(ref _left);
            var take = Math.Min(left, most);
            if (take <= 0)
            {
                return 0;
            }
            if (Interlocked.CompareExchange(ref _left, left - take, left) == left)
            {
                return take;
            }
        }
    }
}
