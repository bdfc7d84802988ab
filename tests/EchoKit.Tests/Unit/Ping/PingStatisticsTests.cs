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
