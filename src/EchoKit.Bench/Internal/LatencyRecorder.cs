using System.Numerics;
using System.Runtime.CompilerServices;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>
/// The hot-path half of a latency histogram: HdrHistogram's bucket layout for the one shape the bench uses
/// (<see cref="LatencyHistograms"/>: 1 µs to 1 h, 3 significant digits), recorded with one array increment.
/// <see cref="AddTo"/> turns it into an HdrHistogram exactly (each count lands in the same bucket), once per sample
/// interval and at the end, so percentiles, merging and encoding are HdrHistogram's own. Recording through
/// HdrHistogram directly costs several virtual calls per value, which at millions of messages per second on one core
/// is a visible share of the generator's time.
/// </summary>
internal sealed class LatencyRecorder
{
    private const int SubBucketHalfCountMagnitude = 10;   // 2 * 10^3 needs 11 bits: 2048 sub-buckets
    private const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;
    private const long SubBucketMask = (2L << SubBucketHalfCountMagnitude) - 1;
    private const int LeadingZeroCountBase = 64 - SubBucketHalfCountMagnitude - 1;

    private static readonly int Length = CountsLength();

    private readonly long[] _counts = new long[Length];
    private int _lowestIndex = int.MaxValue;
    private int _highestIndex = -1;

    public long TotalCount { get; private set; }

    /// <summary>Records a value in µs (clamped to the histogram's range by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(long microseconds)
    {
        var index = IndexOf(microseconds);
        _counts[index]++;
        if (index > _highestIndex)
        {
            _highestIndex = index;
        }
        if (index < _lowestIndex)
        {
            _lowestIndex = index;
        }
        TotalCount++;
    }

    /// <summary>Adds every recorded count to <paramref name="histogram"/> (which must have the bench's shape or a wider one).</summary>
    public void AddTo(HistogramBase histogram)
    {
        for (var i = Math.Max(0, _lowestIndex); i <= _highestIndex; i++)
        {
            var count = _counts[i];
            if (count != 0)
            {
                histogram.RecordValueWithCount(ValueAt(i), count);
            }
        }
    }

    public void Reset()
    {
        if (_highestIndex >= 0)
        {
            Array.Clear(_counts, _lowestIndex, _highestIndex - _lowestIndex + 1);
        }
        _lowestIndex = int.MaxValue;
        _highestIndex = -1;
        TotalCount = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int IndexOf(long value)
    {
        var bucket = LeadingZeroCountBase - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        var subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + (subBucket - SubBucketHalfCount);
    }

    internal static long ValueAt(int index)
    {
        var bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        long subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0)
        {
            subBucket -= SubBucketHalfCount;
            bucket = 0;
        }
        return subBucket << bucket;
    }

    private static int CountsLength()
    {
        // As HdrHistogram sizes its counts array for the highest trackable value.
        var smallestUntrackable = 2L << SubBucketHalfCountMagnitude;
        var buckets = 1;
        while (smallestUntrackable <= LatencyHistograms.HighestMicroseconds)
        {
            smallestUntrackable <<= 1;
            buckets++;
        }
        return (buckets + 1) * SubBucketHalfCount;
    }
}
