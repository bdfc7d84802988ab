using System.Text;

namespace EchoKit.Client.Internal;

/// <summary>
/// Turns input bytes into the bytes to send: LF to CRLF (<c>--crlf</c>) and UTF-8 to the conversation's encoding
/// (<c>--encoding</c>). Both are stateful across reads: a CR at the end of one read and the LF at the start of the
/// next stay one line end, and a UTF-8 character split between reads is encoded whole. Its buffers are sized once
/// for the largest input chunk, so translating allocates nothing.
/// </summary>
internal sealed class InputTranslator
{
    private readonly bool _crlf;
    private readonly Decoder? _utf8;
    private readonly Encoder? _encoder;
    private readonly char[] _chars;
    private readonly char[] _lineChars;
    private readonly byte[] _bytes;
    private bool _lastWasCr;

    /// <param name="crlf">Send a lone LF as CR LF.</param>
    /// <param name="encoding">Transcode UTF-8 input to this encoding; null or UTF-8 passes bytes through.</param>
    /// <param name="maxChunk">The largest input chunk that will be translated at once.</param>
    public InputTranslator(bool crlf, Encoding? encoding, int maxChunk)
    {
        _crlf = crlf;
        if (encoding is not null && encoding.CodePage != Encoding.UTF8.CodePage)
        {
            _utf8 = new UTF8Encoding(false).GetDecoder();
            _encoder = encoding.GetEncoder();
            // A UTF-8 decoder may hold back up to 3 bytes of a split character; one more char for a surrogate pair.
            _chars = new char[maxChunk + 4];
            _lineChars = new char[_crlf ? _chars.Length * 2 : 0];
            _bytes = new byte[encoding.GetMaxByteCount(_crlf ? _chars.Length * 2 : _chars.Length)];
        }
        else
        {
            _chars = [];
            _lineChars = [];
            _bytes = new byte[_crlf ? maxChunk * 2 : 0];
        }
    }

    /// <summary>True when the bytes sent are the input bytes unchanged.</summary>
    public bool IsIdentity => !_crlf && _encoder is null;

    /// <summary>
    /// Translates one chunk. The result lives in the translator's buffer until the next call.
    /// <paramref name="final"/> ends the stream (or the datagram): held-back bytes of a character are flushed.
    /// </summary>
    public ReadOnlyMemory<byte> Translate(ReadOnlyMemory<byte> input, bool final)
    {
        if (IsIdentity)
        {
            return input;
        }
        if (_encoder is null)
        {
            return _bytes.AsMemory(0, CrlfBytes(input.Span, _bytes));
        }
        var decoded = _utf8!.GetChars(input.Span, _chars, final);
        ReadOnlySpan<char> text = _chars.AsSpan(0, decoded);
        if (_crlf)
        {
            text = _lineChars.AsSpan(0, CrlfChars(text, _lineChars));
        }
        int encoded;
        try
        {
            encoded = _encoder.GetBytes(text, _bytes, final);
        }
        catch (EncoderFallbackException ex)
        {
            // The encoding refuses a character it cannot write (the caller chose to refuse rather than send '?').
            throw new InputReadException(ex.Message, ex);
        }
        return _bytes.AsMemory(0, encoded);
    }

    private int CrlfBytes(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var written = 0;
        foreach (var b in input)
        {
            if (b == (byte)'\n' && !_lastWasCr)
            {
                output[written++] = (byte)'\r';
            }
            output[written++] = b;
            _lastWasCr = b == (byte)'\r';
        }
        return written;
    }

    private int CrlfChars(ReadOnlySpan<char> input, Span<char> output)
    {
        var written = 0;
        foreach (var c in input)
        {
            if (c == '\n' && !_lastWasCr)
            {
                output[written++] = '\r';
            }
            output[written++] = c;
            _lastWasCr = c == '\r';
        }
        return written;
    }
}
