using EchoKit.Ping;
using EchoKit.Ping.Internal;

namespace EchoKit.Tests.Ping;

[Trait("Kind", "Unit")]
public sealed class PingStatisticsTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void RoundTripFiguresAreExactAndJitterIsTheMeanDifferenceOfConsecutiveOnes()
    {
        var statistics = new PingStatistics(Second);
        double[] ms = [10, 20, 30, 40, 50];
        for (var i = 0; i < ms.Length; i++)
        {
            statistics.Add(i + 1, PingStatus.Ok, TimeSpan.FromMilliseconds(ms[i]));
        }

        var s = statistics.Summarize("t", "echo");

        Assert.Equal(5, s.Sent);
        Assert.Equal(5, s.Received);
        Assert.Equal(0, s.LossPercent);
        Assert.Equal(10, s.MinMs!.Value, 9);
        Assert.Equal(30, s.AvgMs!.Value, 9);
        Assert.Equal(50, s.MaxMs!.Value, 9);
        Assert.Equal(Math.Sqrt(200), s.MdevMs!.Value, 9); // population standard deviation, as ping's mdev
        Assert.Equal(10, s.JitterMs!.Value, 9);
        Assert.InRange(s.P50Ms!.Value, 30, 30 * 1.001);
        Assert.InRange(s.P99Ms!.Value, 50, 50 * 1.001);
        Assert.True(s.AllAnswered);
    }

    [Fact]
    public void NothingReceivedLeavesRoundTripFiguresNull()
    {
        var statistics = new PingStatistics(Second);
        statistics.Add(1, PingStatus.Refused, null);
        statistics.Add(2, PingStatus.Timeout, null);

        var s = statistics.Summarize("t", "connect");

        Assert.Equal(100, s.LossPercent);
        Assert.Null(s.MinMs);
        Assert.Null(s.P99Ms);
        Assert.Null(s.JitterMs);
        Assert.Equal(1, s.Refused);
        Assert.Equal(1, s.Timeouts);
        Assert.False(s.AllAnswered);
    }

    [Fact]
    public void AnOutageIsReportedOnceDownAndOnceUpWithItsLength()
    {
        var statistics = new PingStatistics(Second);
        var transitions = new List<PingTransition>();
        for (long seq = 1; seq <= 20; seq++)
        {
            var status = seq is >= 11 and < 17 ? PingStatus.Timeout : PingStatus.Ok;
            if (statistics.Add(seq, status, status == PingStatus.Ok ? TimeSpan.FromMilliseconds(1) : null) is { } t)
            {
                transitions.Add(t);
            }
        }

        Assert.Equal([new PingTransition(false, 11, "timeout", null), new PingTransition(true, 17, null, TimeSpan.FromSeconds(6))], transitions);
        var s = statistics.Summarize("t", "echo");
        Assert.Equal(TimeSpan.FromSeconds(14), s.Up);
        Assert.Equal(TimeSpan.FromSeconds(6), s.Down);
        Assert.Equal(TimeSpan.FromSeconds(6), s.LongestOutage);
        Assert.Equal(1, s.Outages);
    }

    [Fact]
    public void AnOutageStillGoingAtTheEndCountsAsTheLongest()
    {
        var statistics = new PingStatistics(TimeSpan.FromMilliseconds(500));
        statistics.Add(1, PingStatus.Refused, null); // down from the first probe
        statistics.Add(2, PingStatus.Ok, TimeSpan.FromMilliseconds(1));
        statistics.Add(3, PingStatus.Error, null);
        statistics.Add(4, PingStatus.Mismatch, null);
        statistics.Add(5, PingStatus.Timeout, null);

        var s = statistics.Summarize("t", "echo");

        Assert.Equal(2, s.Outages);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), s.LongestOutage);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), s.Down);
        Assert.Equal(1, s.Mismatches);
        Assert.Equal(1, s.Errors);
    }

    [Fact]
    public void AnswersHeldThroughAStallAndDeliveredInABurstCountTheStallAsDownTime()
    {
        // -i 100ms on a 300 ms path. The link is down from t=2 s to t=5 s: TCP holds the probes sent meanwhile and
        // delivers them all when it is back, so they are answered at 5.3 s, within a 3 s timeout. Before and after,
        // the round trip wanders by 40 ms, less than an interval.
        var interval = TimeSpan.FromMilliseconds(100);
        var statistics = new PingStatistics(interval);
        var transitions = new List<PingTransition>();
        for (long seq = 1; seq <= 80; seq++)
        {
            var sent = (seq - 1) * 0.1;
            var roundTrip = sent is >= 2.0 and < 5.0 ? 5.3 - sent : 0.3 + seq % 5 * 0.01;
            if (statistics.Add(seq, PingStatus.Ok, TimeSpan.FromSeconds(roundTrip)) is { } t)
            {
                transitions.Add(t);
            }
        }

        var s = statistics.Summarize("t", "echo");

        Assert.Equal(80, s.Received); // held, not lost
        Assert.Equal(0, s.LossPercent);
        Assert.InRange(s.MaxMs!.Value, 3299, 3301);
        Assert.Equal(2, transitions.Count);
        Assert.Equal((false, 21L, "stalled"), (transitions[0].Up, transitions[0].Sequence, transitions[0].Reason));
        Assert.Equal(3300, transitions[0].RoundTrip!.Value.TotalMilliseconds, 6);
        Assert.True(transitions[1].Up);
        // The outage lasted 3 s: known to within one interval.
        Assert.InRange(s.LongestOutage, TimeSpan.FromSeconds(3) - interval, TimeSpan.FromSeconds(3) + interval);
        Assert.Equal(s.LongestOutage, transitions[1].DownFor);
        Assert.Equal(s.LongestOutage, s.Down);
        Assert.Equal(1, s.Outages);
        Assert.Equal(29, s.Stalled);
    }

    [Fact]
    public void ASteadySlowPathIsNeverDown()
    {
        // 300 ms round trips at -i 100ms: every answer comes after the next probe is sent, but none later than the
        // next probe's answer could have.
        var statistics = new PingStatistics(TimeSpan.FromMilliseconds(100));
        for (long seq = 1; seq <= 50; seq++)
        {
            Assert.Null(statistics.Add(seq, PingStatus.Ok, TimeSpan.FromMilliseconds(300 + seq % 10 * 9)));
        }

        var s = statistics.Summarize("t", "echo");

        Assert.Equal((0L, 0L), (s.Outages, s.Stalled));
        Assert.Equal(TimeSpan.Zero, s.Down);
        Assert.Equal(TimeSpan.FromSeconds(5), s.Up);
    }

    [Fact]
    public void AtShortIntervalsAHiccupUnderFiftyMillisecondsIsNoStall()
    {
        // -i 1ms: a 13 ms answer (the machine's own hiccup) is not an outage; one held 80 ms is.
        var statistics = new PingStatistics(TimeSpan.FromMilliseconds(1));
        Assert.Null(statistics.Add(1, PingStatus.Ok, TimeSpan.FromMilliseconds(0.2)));
        Assert.Null(statistics.Add(2, PingStatus.Ok, TimeSpan.FromMilliseconds(13)));
        Assert.Null(statistics.Add(3, PingStatus.Ok, TimeSpan.FromMilliseconds(50.1)));
        var down = statistics.Add(4, PingStatus.Ok, TimeSpan.FromMilliseconds(80));

        Assert.NotNull(down);
        Assert.Equal("stalled", down.Reason);
        Assert.Equal(1, statistics.Summarize("t", "udp").Stalled);
    }

    [Fact]
    public void StraysAreCountedApart()
    {
        var statistics = new PingStatistics(Second);
        statistics.Add(1, PingStatus.Ok, TimeSpan.FromMilliseconds(1));
        statistics.AddStray(PingStrayKind.Duplicate);
        statistics.AddStray(PingStrayKind.Late);
        statistics.AddStray(PingStrayKind.Reordered);
        statistics.AddStray(PingStrayKind.Mismatch);

        var s = statistics.Summarize("t", "udp");

        Assert.Equal((1L, 1L, 1L, 1L, 1L), (s.Received, s.Duplicates, s.Late, s.Reordered, s.Mismatches));
        Assert.False(s.AllAnswered); // a mismatched answer is a failure even though every probe was answered
    }
}
