using System.Buffers;
using System.Text;
using EchoKit.Internal;

namespace EchoKit.Client.Internal;

/// <summary>
/// Writes what arrives to the output as the user asked: the bytes as they are, text decoded with one stateful
/// decoder (so a character split across reads comes out whole) and re-encoded as UTF-8, or a hex dump whose
/// offsets run on across reads. Each chunk is written and flushed before the next read, which is the back-pressure:
/// a slow output slows the socket, never grows a buffer.
/// </summary>
internal sealed class ReceivedDataWriter(Stream output, Encoding? encoding, bool hexDump) : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private static readonly ReadOnlyMemory<byte> NewLine = new[] { (byte)'\n' };
    private readonly TextStreamDecoder? _decoder = encoding is null || hexDump ? null : new TextStreamDecoder(encoding);
    private readonly StringBuilder? _hex = hexDump ? new StringBuilder() : null;
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
        if (_decoder is not null)
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
            var length = 0;
            foreach (var chunk in _hex.GetChunks())
            {
                length = EncodeUtf8(chunk.Span, length);
            }
            await PutAsync(length, cancellationToken).ConfigureAwait(false);
            return;
        }

        bool endsWithNewline;
        if (_decoder is not null)
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
        catch (IOException ex)
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
