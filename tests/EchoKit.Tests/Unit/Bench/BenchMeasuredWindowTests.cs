using EchoKit.Bench;

namespace EchoKit.Tests.Bench;

/// <summary>The stretch of time a run's rate is taken over (<see cref="BenchRunner.MeasuredWindow"/>).</summary>
[Trait("Kind", "Unit")]
public sealed class BenchMeasuredWindowTests
{
    private const long Measure = 1_000;   // measuring began (no warm-up: the run's start, before any connect)
    private const long End = 100_000;     // a duration run's end
    private const long Stop = 99_000;     // the last worker stopped
    private const long FirstStart = 7_000; // the first counted message was sent, after the connects
    private const long LastRecord = 9_000; // the last counted message came back

    [Fact]
    public void AMessageCountRunIsTimedFromItsFirstMessagesStartNotFromBeforeTheConnects()
    {
        var (begin, end) = BenchRunner.MeasuredWindow(Measure, End, Stop, FirstStart, LastRecord, countMode: true);

        Assert.Equal((FirstStart, LastRecord), (begin, end));
    }

    [Fact]
    public void AMessageCountRunAfterAWarmUpIsTimedFromTheWarmUpsEnd()
    {
        // The first counted message was sent during the warm-up and came back after it: only its measured part counts.
        var (begin, _) = BenchRunner.MeasuredWindow(Measure, End, Stop, firstStartTicks: Measure - 50, LastRecord, countMode: true);

        Assert.Equal(Measure, begin);
    }

    [Fact]
    public void AMessageCountRunWithNoMessageKeepsTheWarmUpsEnd()
    {
        var (begin, end) = BenchRunner.MeasuredWindow(Measure, End, Stop, long.MaxValue, lastRecordTicks: 0, countMode: true);

        Assert.Equal((Measure, 0L), (begin, end));
    }

    [Fact]
    public void ADurationRunOrAnInterruptedOneIsTimedFromTheWarmUpsEndToItsEndOrStop()
    {
        Assert.Equal((Measure, Stop), BenchRunner.MeasuredWindow(Measure, End, Stop, FirstStart, LastRecord, countMode: false));
        Assert.Equal((Measure, End), BenchRunner.MeasuredWindow(Measure, End, stopTicks: End + 5, FirstStart, LastRecord, countMode: false));
    }
}
