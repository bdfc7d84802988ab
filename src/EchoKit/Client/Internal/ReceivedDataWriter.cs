using System.Buffers;
using System.Text;
using EchoKit.Internal;

namespace EchoKit.Client.Internal;

/// <summary>
/// Writes what arrives to the output as the user asked: the bytes as they are, text decoded with one stateful
/// decoder (so a character split across reads comes out whole) and re-encoded as UTF-8, or a hex dump whose
/// offsets run on across reads. Each chunk is written and flushed before the next read, which is the back-pressure:
/// a slow output slows the socket, never grows a buffer. For a terminal (<paramref name="escapeForTerminal"/>) the
/// text, raw or decoded, passes <see cref="PeerText"/> first, so the server's control bytes and escape sequences are
/// shown (<c>\x1b</c>) rather than acted on; line breaks, tabs and carriage returns pass.
/// </summary>
internal sealed class ReceivedDataWriter(Stream output, Encoding? encoding, bool hexDump, bool escapeForTerminal = false) : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private static readonly ReadOnlyMemory<byte> NewLine = new[] { (byte)'\n' };
    private readonly TextStreamDecoder? _decoder = encoding is null || hexDump ? null : new TextStreamDecoder(encoding);
    private readonly StringBuilder? _hex = hexDump ? new StringBuilder() : null;
    private readonly StringBuilder? _terminal = escapeForTerminal && !hexDump ? new StringBuilder() : null;
    // Raw bytes for a terminal: the start of a UTF-8 sequence that the last read cut (at most 3 bytes).
    private readonly byte[] _carry = new byte[4];
    private int _carryLength;
    private byte[] _scratch = ArrayPool<byte>.Shared.Rent(4096);
    private long _offset;

    /// <summary>Writes a chunk of a byte stream (TCP).</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        WriteCoreAsync(data, datagram: false, cancellationToken);

    /// <summary>
    /// Writes one datagram: a hex dump starts again at offset 0, and text that does not end with a line end gets one,
    /// so each datagram is on its own line(s).
    /// </summary>
    public ValueTask WriteDatagramAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        WriteCoreAsync(data, datagram: true, cancellationToken);

    /// <summary>The stream ended: flushes a character the decoder held back (as U+FFFD, since it never completed).</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (_terminal is not null)
        {
            await PutAsync(EscapeForTerminal([], final: true), cancellationToken).ConfigureAwait(false);
        }
        else if (_decoder is not null)
        {
            var length = EncodeUtf8(_decoder.Flush(), 0);
            await PutAsync(length, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> data, bool datagram, CancellationToken cancellationToken)
    {
        if (_hex is not null)
        {
            if (datagram)
            {
                _offset = 0;
            }
            _hex.Clear();
            HexDump.Append(_hex, data.Span, _offset);
            _offset += data.Length;
            if (data.Length > 0 || datagram)
            {
                _hex.Append('\n');
            }
            await PutAsync(EncodeUtf8(_hex), cancellationToken).ConfigureAwait(false);
            return;
        }

        bool endsWithNewline;
        if (_terminal is not null)
        {
            var length = EscapeForTerminal(data.Span, final: datagram);
            endsWithNewline = length > 0 && _scratch[length - 1] == (byte)'\n';
            await PutAsync(length, cancellationToken).ConfigureAwait(false);
        }
        else if (_decoder is not null)
        {
            var length = EncodeUtf8(_decoder.Decode(data.Span), 0);
            if (datagram)
            {
                // A datagram is a whole message: flush the decoder so nothing carries over to the next one.
                length = EncodeUtf8(_decoder.Flush(), length);
            }
            endsWithNewline = length > 0 && _scratch[length - 1] == (byte)'\n';
            await PutAsync(length, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            endsWithNewline = !data.IsEmpty && data.Span[^1] == (byte)'\n';
            await Guard(output.WriteAsync(data, cancellationToken)).ConfigureAwait(false);
        }
        if (datagram && !endsWithNewline)
        {
            await Guard(output.WriteAsync(NewLine, cancellationToken)).ConfigureAwait(false);
        }
        await Guard(new ValueTask(output.FlushAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Escapes what arrived for a terminal, decoded first when there is an encoding, into the scratch buffer as UTF-8;
    /// returns its length. <paramref name="final"/> (end of stream, or a whole datagram) lets nothing wait for the
    /// next read.
    /// </summary>
    private int EscapeForTerminal(ReadOnlySpan<byte> data, bool final)
    {
        _terminal!.Clear();
        if (_decoder is not null)
        {
            PeerText.AppendForTerminal(_terminal, _decoder.Decode(data));
            if (final)
            {
                PeerText.AppendForTerminal(_terminal, _decoder.Flush());
            }
        }
        else
        {
            AppendBytesForTerminal(data, final);
        }
        return EncodeUtf8(_terminal);
    }

    /// <summary>
    /// Escapes raw bytes for a terminal into <see cref="_terminal"/>: a UTF-8 sequence cut at the end waits in
    /// <see cref="_carry"/> for the next read, unless <paramref name="final"/> (end of stream, or a whole datagram).
    /// </summary>
    private void AppendBytesForTerminal(ReadOnlySpan<byte> data, bool final)
    {
        byte[]? joined = null;
        var input = data;
        if (_carryLength > 0)
        {
            joined = ArrayPool<byte>.Shared.Rent(_carryLength + data.Length);
            _carry.AsSpan(0, _carryLength).CopyTo(joined);
            data.CopyTo(joined.AsSpan(_carryLength));
            input = joined.AsSpan(0, _carryLength + data.Length);
        }
        var used = PeerText.AppendForTerminal(_terminal!, input, final);
        input[used..].CopyTo(_carry);
        _carryLength = input.Length - used;
        if (joined is not null)
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }

    private int EncodeUtf8(StringBuilder text)
    {
        var length = 0;
        foreach (var chunk in text.GetChunks())
        {
            length = EncodeUtf8(chunk.Span, length);
        }
        return length;
    }

    /// <summary>Encodes <paramref name="chars"/> as UTF-8 into the scratch buffer at <paramref name="at"/>; returns the new length.</summary>
    private int EncodeUtf8(ReadOnlySpan<char> chars, int at)
    {
        var needed = at + Utf8.GetMaxByteCount(chars.Length);
        if (needed > _scratch.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(needed);
            _scratch.AsSpan(0, at).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = bigger;
        }
        return at + Utf8.GetBytes(chars, _scratch.AsSpan(at));
    }

    private async ValueTask PutAsync(int length, CancellationToken cancellationToken)
    {
        if (length > 0)
        {
            await Guard(output.WriteAsync(_scratch.AsMemory(0, length), cancellationToken)).ConfigureAwait(false);
            await Guard(new ValueTask(output.FlushAsync(cancellationToken))).ConfigureAwait(false);
        }
    }

    /// <summary>Marks output failures so the session can tell them from network failures.</summary>
    private static async ValueTask Guard(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception ex) when (ClientErrors.DescribeStreamError(ex) is not null)
        {
            throw new OutputWriteException(ex);
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_scratch);
        _scratch = [];
    }
}
