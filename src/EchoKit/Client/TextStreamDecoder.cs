using System.Text;

namespace EchoKit.Client;

/// <summary>
/// Decodes a byte stream to text chunk by chunk with one stateful decoder, so a character whose bytes straddle two
/// reads comes out whole (decoding each read alone would break it, as the seed tutorial warns).
/// </summary>
public sealed class TextStreamDecoder
{
    private readonly Decoder _decoder;
    private char[] _chars = new char[1024];

    /// <summary>Creates a decoder for <paramref name="encoding"/>.</summary>
    public TextStreamDecoder(Encoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        _decoder = encoding.GetDecoder();
    }

    /// <summary>Decodes the next chunk; bytes of an unfinished character are kept for the next call.</summary>
    public ReadOnlySpan<char> Decode(ReadOnlySpan<byte> bytes) => Run(bytes, flush: false);

    /// <summary>Ends the stream: anything held back that never completed becomes a replacement character.</summary>
    public ReadOnlySpan<char> Flush() => Run([], flush: true);

    private ReadOnlySpan<char> Run(ReadOnlySpan<byte> bytes, bool flush)
    {
        var needed = _decoder.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        var count = _decoder.GetChars(bytes, _chars, flush);
        return _chars.AsSpan(0, count);
    }
}
