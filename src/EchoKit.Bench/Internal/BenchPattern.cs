using System.Runtime.CompilerServices;
namespace EchoKit.Bench.Internal;

/// <summary>
/// The bytes every connection sends: connection c's stream byte at offset x is <c>Bytes[(seed_c + x) % Period]</c>.
/// The buffer repeats its first <see cref="MaxChunk"/> bytes after the period, so any chunk a connection sends or
/// receives is one contiguous slice and checking an echo is one vectorised <c>SequenceEqual</c> against it; no
/// per-byte branch unless something is wrong. The bytes are pseudo-random and the period is prime, so a lost,
/// repeated, swapped or foreign chunk (another connection's, another offset's) does not match.
/// </summary>
internal static class BenchPattern
{
    /// <summary>Length of one period: a prime, so no message size divides it.</summary>
    public const int Period = 65521;

    /// <summary>The most bytes sent or checked in one call.</summary>
    public const int MaxChunk = 256 * 1024;

    /// <summary>The pattern, <see cref="Period"/> + <see cref="MaxChunk"/> bytes long. Never written after startup.</summary>
    public static readonly byte[] Bytes = Create();

    /// <summary>A connection's starting offset in the pattern: spread out so neighbours differ.</summary>
    public static int SeedFor(int connection) => (int)((connection * 7919L + 13) % Period);

    /// <summary>The expected bytes at stream offset <paramref name="offset"/> for a connection with <paramref name="seed"/>.</summary>
    public static ReadOnlySpan<byte> Expected(int seed, long offset, int length) =>
        Bytes.AsSpan((int)((seed + offset) % Period), length);

    /// <summary>How many bytes of <paramref name="received"/> differ from what was sent at that offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long CountMismatches(ReadOnlySpan<byte> received, int seed, long offset)
    {
        var expected = Expected(seed, offset, received.Length);
        if (received.SequenceEqual(expected))
        {
            return 0;
        }
        long bad = 0;
        for (var i = 0; i < received.Length; i++)
        {
            bad += received[i] != expected[i] ? 1 : 0;
        }
        return bad;
    }

    private static byte[] Create()
    {
        var bytes = new byte[Period + MaxChunk];
        // xorshift64*: fixed seed, so two runs (and two machines) send the same bytes.
        var state = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < Period; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            bytes[i] = (byte)((state * 0x2545F4914F6CDD1DUL) >> 56);
        }
        for (var i = Period; i < bytes.Length; i++)
        {
            bytes[i] = bytes[i - Period];
        }
        return bytes;
    }
}
