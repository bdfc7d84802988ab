using System.Buffers.Binary;

namespace EchoKit.Ping.Internal;

/// <summary>
/// A probe's bytes: the session's random tag (8 bytes, so answers meant for another run are told apart), the sequence
/// number (8 bytes, big-endian), then a pattern that depends on the sequence, so a reply from the wrong probe or with
/// one flipped bit does not pass as an echo.
/// </summary>
internal static class ProbeFrame
{
    public const int HeaderSize = 16;

    public static void Write(Span<byte> frame, ulong tag, long sequence)
    {
        BinaryPrimitives.WriteUInt64BigEndian(frame, tag);
        BinaryPrimitives.WriteInt64BigEndian(frame[8..], sequence);
        var seed = (byte)(sequence * 31);
        for (var i = HeaderSize; i < frame.Length; i++)
        {
            frame[i] = (byte)(seed + i);
        }
    }

    /// <summary>The sequence number an answer carries, when its tag is this session's.</summary>
    public static bool TryReadSequence(ReadOnlySpan<byte> frame, ulong tag, out long sequence)
    {
        sequence = 0;
        if (frame.Length < HeaderSize || BinaryPrimitives.ReadUInt64BigEndian(frame) != tag)
        {
            return false;
        }
        sequence = BinaryPrimitives.ReadInt64BigEndian(frame[8..]);
        return sequence > 0;
    }

    /// <summary>The offset of the first byte that differs from probe <paramref name="sequence"/> of <paramref name="size"/> bytes; -1 when the answer is exact.</summary>
    public static int FirstDifference(ReadOnlySpan<byte> answer, ulong tag, long sequence, int size)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Write(header, tag, sequence);
        var length = Math.Min(answer.Length, size);
        var seed = (byte)(sequence * 31);
        for (var i = 0; i < length; i++)
        {
            var expected = i < HeaderSize ? header[i] : (byte)(seed + i);
            if (answer[i] != expected)
            {
                return i;
            }
        }
        return answer.Length == size ? -1 : length;
    }
}
