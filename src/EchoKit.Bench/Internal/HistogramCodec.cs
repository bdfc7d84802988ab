using System.Buffers.Binary;
using System.IO.Compression;
using HdrHistogram;
using HdrHistogram.Utilities;

namespace EchoKit.Bench.Internal;

/// <summary>
/// HdrHistogram's compressed V2 encoding, as base64: what every HdrHistogram (Java, C, Go, .NET, the online plotter)
/// reads. Encoding uses the HdrHistogram package itself. Decoding is done here, because the package's decoder finds
/// the histogram's constructor by reflection, which Native AOT cannot keep; the format is small and documented:
/// a cookie and a length, then zlib-deflated: a 40-byte big-endian header and the counts as ZigZag LEB128 numbers,
/// where a negative number skips that many empty buckets.
/// </summary>
internal static class HistogramCodec
{
    private const int CompressedCookieV2 = 0x1c849304;
    private const int CookieV2 = 0x1c849303;

    public static string Encode(HistogramBase histogram)
    {
        var buffer = ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity());
        var length = histogram.EncodeIntoCompressedByteBuffer(buffer);
        buffer.Position = 0;
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = buffer.Get();
        }
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Decodes a histogram encoded by any HdrHistogram; throws <see cref="FormatException"/> when it is not one.</summary>
    public static LongHistogram Decode(string base64)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new FormatException("the histogram is not valid base64");
        }
        if (bytes.Length < 8 || (BinaryPrimitives.ReadInt32BigEndian(bytes) & ~0xf0) != CompressedCookieV2)
        {
            throw new FormatException("the histogram is not in HdrHistogram's compressed V2 encoding");
        }
        var compressedLength = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (compressedLength < 0 || compressedLength > bytes.Length - 8)
        {
            throw new FormatException("the histogram is truncated");
        }
        byte[] plain;
        try
        {
            using var input = new MemoryStream(bytes, 8, compressedLength);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            zlib.CopyTo(output);
            plain = output.ToArray();
        }
        catch (InvalidDataException)
        {
            throw new FormatException("the histogram's compressed data is damaged");
        }
        return DecodePlain(plain);
    }

    private static LongHistogram DecodePlain(ReadOnlySpan<byte> data)
    {
        if (data.Length < 40 || (BinaryPrimitives.ReadInt32BigEndian(data) & ~0xf0) != CookieV2)
        {
            throw new FormatException("the histogram's header is not HdrHistogram V2");
        }
        var payloadLength = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        var normalizingOffset = BinaryPrimitives.ReadInt32BigEndian(data[8..]);
        var digits = BinaryPrimitives.ReadInt32BigEndian(data[12..]);
        var lowest = BinaryPrimitives.ReadInt64BigEndian(data[16..]);
        var highest = BinaryPrimitives.ReadInt64BigEndian(data[24..]);
        if (normalizingOffset != 0 || digits is < 0 or > 5 || lowest < 1 || highest < 2 * lowest || payloadLength < 0 || payloadLength > data.Length - 40)
        {
            throw new FormatException("the histogram's header is out of range");
        }
        // Bucket layout, as HdrHistogram derives it from the header.
        var unitMagnitude = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)lowest);
        var largestSingleUnit = 2 * (long)Math.Pow(10, digits);
        var subBucketCountMagnitude = (int)Math.Ceiling(Math.Log2(largestSingleUnit));
        var subBucketHalfCountMagnitude = Math.Max(subBucketCountMagnitude, 1) - 1;
        var subBucketHalfCount = 1L << subBucketHalfCountMagnitude;

        var histogram = new LongHistogram(lowest, Math.Max(highest, LatencyHistograms.HighestMicroseconds), digits);
        var payload = data.Slice(40, payloadLength);
        var position = 0;
        long index = 0;
        while (position < payload.Length)
        {
            var value = ReadZigZag(payload, ref position);
            if (value < 0)
            {
                index += -value;
                continue;
            }
            if (value > 0)
            {
                var bucket = (index >> subBucketHalfCountMagnitude) - 1;
                var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount;
                if (bucket < 0)
                {
                    subBucket -= subBucketHalfCount;
                    bucket = 0;
                }
                var shift = (int)(bucket + unitMagnitude);
                if (shift > 62)
                {
                    throw new FormatException("the histogram holds a value out of range");
                }
                histogram.RecordValueWithCount(subBucket << shift, value);
            }
            index++;
        }
        return histogram;
    }

    private static long ReadZigZag(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new FormatException("the histogram's counts are truncated");
            }
            ulong b = data[position++];
            if (shift == 56)
            {
                result |= b << 56; // the ninth byte carries eight bits
                break;
            }
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }
        return (long)(result >> 1) ^ -(long)(result & 1);
    }
}
