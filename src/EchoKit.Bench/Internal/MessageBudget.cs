using System.Runtime.CompilerServices;

namespace EchoKit.Bench.Internal;

/// <summary>
/// The messages a message-count run (<c>-n</c>, TCP or UDP) has still to give out, shared by its workers. A worker takes
/// more whenever its own run out, so a worker that gets through its messages faster takes more, and every worker keeps
/// its window full until the count is nearly reached. Split up front instead, the worker sharing its core with the
/// server finished last, alone: with 2 workers, <c>-n 100000 -c 8 --pipeline 4</c> read a Little's-law ratio of
/// 0.89–0.97 (docs/bench.md). Each take is an eighth of a worker's fair share of what is left (guided scheduling), and
/// at least what the worker asks for: few takes while much is left, small ones near the end, where a large one would
/// leave the other workers idle. Messages taken are never given back.
/// </summary>
internal sealed class MessageBudget(long total, int workers)
{
    private readonly long _parts = 8L * Math.Max(1, workers);
    private long _left = total;

    /// <summary>True once every message has been given out (and so for the rest of the run).</summary>
    public bool IsEmpty => Volatile.Read(ref _left) <= 0;

    /// <summary>
    /// Takes at least <paramref name="least"/> messages (fewer only when fewer are left), more while much is left;
    /// returns how many were taken (0 once empty). Any thread.
    /// </summary>
    /// <remarks>Compiled optimised at once, as everything a worker calls while measuring (<see cref="BenchWorker.TakeMessages"/>).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Take(long least)
    {
        while (true)
        {
            var left = Volatile.Read(ref _left);
            var take = Math.Min(left, Math.Max(least, left / _parts));
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
