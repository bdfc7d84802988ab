using System.Diagnostics;
using HdrHistogram;

namespace EchoKit.Bench.Internal;

/// <summary>The one histogram shape every bench run uses, so any two can be added: 1 µs to 1 hour, 3 significant digits.</summary>
internal static class LatencyHistograms
{
    /// <summary>The largest value recorded, in µs (one hour); longer latencies are clamped to it.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    public const int SignificantDigits = 3;

    private static readonly bool NanosecondTicks = Stopwatch.Frequency == 1_000_000_000;

    public static LongHistogram Create() => new(1, HighestMicroseconds, SignificantDigits);

    /// <summary>Converts Stopwatch ticks to whole microseconds, rounded to nearest, clamped to the histogram's range.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static long ToMicroseconds(long ticks)
    {
        if (ticks <= 0)
        {
            return 0;
        }
        if (NanosecondTicks)
        {
            // Linux's Stopwatch counts nanoseconds: a division by a constant, which compiles to a multiply, instead
            // of a 64-bit division by a value read at run time (Native AOT cannot fold Stopwatch.Frequency).
            return Math.Min(HighestMicroseconds, (ticks + 500) / 1000);
        }
        var clamped = Math.Min(ticks, Stopwatch.Frequency * 3600);
        return Math.Min(HighestMicroseconds, (clamped * 1_000_000 + Stopwatch.Frequency / 2) / Stopwatch.Frequency);
    }

    /// <summary>Records a latency given in Stopwatch ticks.</summary>
    public static void RecordTicks(LongHistogram histogram, long ticks) => histogram.RecordValue(ToMicroseconds(ticks));
}
