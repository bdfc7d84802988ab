namespace EchoKit.Server.Internal;

/// <summary>
/// The sources a UDP listener remembers, each with a token bucket: a fixed-size, set-associative table, so its
/// memory never grows whatever arrives. A source hashes (with the process's random seed, so nobody can aim at one
/// slot group) to one group of <see cref="Ways"/> entries; a new source takes an empty entry there, or the place of
/// the least recently seen one. A busy source is therefore never pushed out by a flood of one-off spoofed
/// addresses, and its bucket is not reset by it. Safe for concurrent use: each group has its own lock, held for a
/// few dozen instructions. Allocates nothing per call.
/// </summary>
internal sealed class UdpSourceTable
{
    /// <summary>Entries per group.</summary>
    public const int Ways = 8;

    private readonly Entry[] _entries;
    private readonly Lock[] _locks;
    private readonly long[] _groupUses; // per-group use counter: exact LRU order whatever the clock's resolution
    private readonly int _groupMask;
    private readonly bool _limiting;
    private readonly double _tokensPerTick;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private int _count;

    /// <param name="capacity">Most sources kept; rounded down to a power of two times <see cref="Ways"/> (at least one group).</param>
    /// <param name="ratePerSecond">Datagrams per second per source; 0 turns the limit off (the table still tracks new sources).</param>
    /// <param name="burst">Bucket size: datagrams a source may send at once; at least 1 when limiting.</param>
    /// <param name="time">Clock for refilling the buckets.</param>
    public UdpSourceTable(int capacity, int ratePerSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(ratePerSecond);
        var groups = 1;
        while (groups * 2L * Ways <= capacity)
        {
            groups *= 2;
        }
        _entries = new Entry[groups * Ways];
        _locks = new Lock[groups];
        _groupUses = new long[groups];
        for (var i = 0; i < groups; i++)
        {
            _locks[i] = new Lock();
        }
        _groupMask = groups - 1;
        _limiting = ratePerSecond > 0;
        _tokensPerTick = (double)ratePerSecond / time.TimestampFrequency;
        _burst = Math.Max(1, burst);
        _time = time;
    }

    /// <summary>Entries the table can hold.</summary>
    public int Capacity => _entries.Length;

    /// <summary>Entries in use (never more than <see cref="Capacity"/>).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Records one datagram from <paramref name="source"/> and says whether to answer it. An
    /// <paramref name="exempt"/> source is tracked but never limited.
    /// </summary>
    public UdpSourceVerdict Check(UdpSourceKey source, bool exempt)
    {
        var group = HashCode.Combine(source.High, source.Low) & _groupMask;
        var first = group * Ways;
        var now = _time.GetTimestamp();
        lock (_locks[group])
        {
            var use = ++_groupUses[group];
            var victim = -1;
            var victimUse = long.MaxValue;
            for (var i = first; i < first + Ways; i++)
            {
                ref var entry = ref _entries[i];
                if (!entry.InUse)
                {
                    if (victimUse != long.MinValue)
                    {
                        // An empty entry beats any eviction.
                        victim = i;
                        victimUse = long.MinValue;
                    }
                    continue;
                }
                if (entry.High == source.High && entry.Low == source.Low)
                {
                    entry.LastUse = use;
                    return Charge(ref entry, now, exempt);
                }
                if (entry.LastUse < victimUse)
                {
                    victim = i;
                    victimUse = entry.LastUse;
                }
            }

            ref var slot = ref _entries[victim];
            if (!slot.InUse)
            {
                Interlocked.Increment(ref _count);
            }
            slot = new Entry { High = source.High, Low = source.Low, Tokens = _burst, LastSeen = now, LastUse = use, InUse = true };
            if (_limiting && !exempt)
            {
                slot.Tokens -= 1; // a full bucket always has the token for its first datagram
            }
            return UdpSourceVerdict.AllowedNewSource;
        }
    }

    private UdpSourceVerdict Charge(ref Entry entry, long now, bool exempt)
    {
        var elapsed = Math.Max(0, now - entry.LastSeen);
        entry.LastSeen = now;
        if (!_limiting || exempt)
        {
            return UdpSourceVerdict.Allowed;
        }
        entry.Tokens = Math.Min(_burst, entry.Tokens + elapsed * _tokensPerTick);
        if (entry.Tokens >= 1)
        {
            entry.Tokens -= 1;
            entry.Limited = false;
            return UdpSourceVerdict.Allowed;
        }
        if (entry.Limited)
        {
            return UdpSourceVerdict.Limited;
        }
        entry.Limited = true;
        return UdpSourceVerdict.LimitedFirst;
    }

    private struct Entry
    {
        public ulong High;
        public ulong Low;
        public double Tokens;
        public long LastSeen;
        public long LastUse;
        public bool InUse;
        public bool Limited;
    }
}
