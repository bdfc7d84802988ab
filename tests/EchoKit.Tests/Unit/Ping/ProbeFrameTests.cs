using EchoKit.Ping.Internal;

namespace EchoKit.Tests.Ping;

[Trait("Kind", "Unit")]
public sealed class ProbeFrameTests
{
    [Fact]
    public void AnExactEchoMatchesAndCarriesItsSequence()
    {
        var frame = new byte[32];
        ProbeFrame.Write(frame, 0xfeedbeef, 42);

        Assert.Equal(-1, ProbeFrame.FirstDifference(frame, 0xfeedbeef, 42, 32));
        Assert.True(ProbeFrame.TryReadSequence(frame, 0xfeedbeef, out var sequence));
        Assert.Equal(42, sequence);
    }

    [Theory]
    [InlineData(3)]   // in the run tag
    [InlineData(12)]  // in the sequence number
    [InlineData(31)]  // in the pattern
    public void OneFlippedBitIsFoundWhereItIs(int offset)
    {
        var frame = new byte[32];
        ProbeFrame.Write(frame, 1, 5);
        frame[offset] ^= 0x01;

        Assert.Equal(offset, ProbeFrame.FirstDifference(frame, 1, 5, 32));
    }

    [Fact]
    public void AnotherProbesEchoOrAnotherRunsDoesNotMatch()
    {
        var frame = new byte[32];
        ProbeFrame.Write(frame, 1, 5);

        Assert.NotEqual(-1, ProbeFrame.FirstDifference(frame, 1, 6, 32));
        Assert.False(ProbeFrame.TryReadSequence(frame, 2, out _));
        Assert.Equal(31, ProbeFrame.FirstDifference(frame.AsSpan(0, 31), 1, 5, 32)); // short
    }
}
