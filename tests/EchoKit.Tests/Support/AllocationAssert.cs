namespace EchoKit.Tests.Support;

/// <summary>
/// The one way the tests check that a hot path does not allocate. The calls run in three windows and the least any
/// window allocated is what is checked: an allocation per call, or on any path taken again and again (an eviction,
/// one call in a thousand), shows up in every window, while a one-off allocation by the runtime lands in one window
/// at most (type loading when the JIT compiles the loop's on-stack replacement, tiering work in a fresh test process:
/// 2.7 KB and 4.7 KB were seen on the test's own thread in CI runs, and hundreds of KB process-wide when a test class
/// ran alone). Asserting on one window failed about once in fifty runs, and far more often in a fresh process.
/// </summary>
internal static class AllocationAssert
{
    /// <summary>How many times the calls are run.</summary>
    public const int Windows = 3;

    /// <summary>Runs <paramref name="calls"/> calls of <paramref name="call"/> (given the call's index) per window: not a byte on this thread.</summary>
    public static void NothingPerCall(int calls, Action<int> call)
    {
        var least = LeastOverWindows(calls, call, GC.GetAllocatedBytesForCurrentThread);
        Assert.True(least == 0, $"{least} bytes allocated over {calls} calls in the best of {Windows} windows");
    }

    /// <summary>
    /// As <see cref="NothingPerCall"/>, counting every thread of the process (for work done on the code's own threads,
    /// such as a server's receive loops), under <paramref name="bytesPerCall"/> per call to leave room for the
    /// runtime's and the test host's own threads.
    /// </summary>
    public static void UnderPerCallInProcess(int calls, double bytesPerCall, Action<int> call)
    {
        var perCall = (double)LeastOverWindows(calls, call, () => GC.GetTotalAllocatedBytes(precise: true)) / calls;
        Assert.True(perCall < bytesPerCall, $"{perCall:F1} bytes allocated per call in the best of {Windows} windows");
    }

    private static long LeastOverWindows(int calls, Action<int> call, Func<long> allocatedBytes)
    {
        var least = long.MaxValue;
        for (var window = 0; window < Windows; window++)
        {
            var before = allocatedBytes();
            for (var i = 0; i < calls; i++)
            {
                call(i);
            }
            least = Math.Min(least, allocatedBytes() - before);
        }
        return least;
    }
}
