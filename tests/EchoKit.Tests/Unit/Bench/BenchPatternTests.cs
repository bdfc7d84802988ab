using EchoKit.Bench.Internal;

namespace EchoKit.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class BenchPatternTests
{
    private const int Seed = 4242;

    private static byte[] Stream(int seed, int length) => BenchPattern.Expected(seed, 0, length).ToArray();

    private static long CheckInShortReads(byte[] received, int seed)
    {
        // As the bench does: chunk by chunk, each at its own stream offset, with reads of awkward sizes.
        long bad = 0;
        var offset = 0;
        var sizes = new[] { 1, 7, 31, 3, 64, 5 };
        for (var i = 0; offset < received.Length; i++)
        {
            var n = Math.Min(sizes[i % sizes.Length], received.Length - offset);
            bad += BenchPattern.CountMismatches(received.AsSpan(offset, n), seed, offset);
            offset += n;
        }
        return bad;
    }

    [Fact]
    public void PatternCheckAcceptsTheExactStreamInShortReads()
    {
        Assert.Equal(0, CheckInShortReads(Stream(Seed, 5000), Seed));
    }

    [Fact]
    public void PatternCheckAcceptsStreamsLongerThanThePatternPeriod()
    {
        var length = BenchPattern.Period * 2 + 100;
        var stream = new byte[length];
        for (var offset = 0; offset < length; offset += 1000)
        {
            var n = Math.Min(1000, length - offset);
            BenchPattern.Expected(Seed, offset, n).CopyTo(stream.AsSpan(offset));
        }
        Assert.Equal(0, CheckInShortReads(stream, Seed));
        Assert.Equal(stream[5], stream[BenchPattern.Period + 5]);
    }

    [Fact]
    public void PatternCheckCatchesOneCorruptedByte()
    {
        var stream = Stream(Seed, 1000);
        stream[517] ^= 0x80;
        Assert.Equal(1, CheckInShortReads(stream, Seed));
    }

    [Fact]
    public void PatternCheckCatchesLostBytes()
    {
        var stream = Stream(Seed, 1000).ToList();
        stream.RemoveRange(320, 32); // one 32-byte message lost: everything after it shifts
        Assert.True(CheckInShortReads(stream.ToArray(), Seed) > 500);
    }

    [Fact]
    public void PatternCheckCatchesReorderedMessages()
    {
        var stream = Stream(Seed, 320);
        var swapped = stream.ToArray();
        stream.AsSpan(64, 32).CopyTo(swapped.AsSpan(96));
        stream.AsSpan(96, 32).CopyTo(swapped.AsSpan(64));
        Assert.True(CheckInShortReads(swapped, Seed) >= 32);
    }

    [Fact]
    public void PatternCheckCatchesAnotherConnectionsBytes()
    {
        var other = BenchPattern.SeedFor(1);
        Assert.NotEqual(BenchPattern.SeedFor(0), other);
        Assert.True(CheckInShortReads(Stream(BenchPattern.SeedFor(0), 256), other) > 200);
    }
}
