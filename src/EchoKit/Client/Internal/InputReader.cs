using System.Buffers;

namespace EchoKit.Client.Internal;

/// <summary>
/// Reads the input (standard input: a terminal, a pipe, a file) into one pooled buffer, in a way that can always be
/// abandoned. read(2) on a terminal or a pipe cannot be cancelled, and console streams may even block inside
/// ReadAsync, so each read runs on the thread pool and the caller waits for it with its token. When the session
/// ends with a read still blocked (the peer closed while the user had not typed anything), that read is left
/// behind: it is the one task nobody awaits, because nothing can finish it but more input or the end of the
/// process, which follows at once. Its buffer is then never returned to the pool, since the read may still fill it.
/// </summary>
internal sealed class InputReader(Stream input, int bufferSize) : IDisposable
{
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    private Task<int>? _pending;

    /// <summary>The next chunk of input (valid until the next call); empty at the end of input.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        var buffer = _buffer;
        // Reads are not on a hot path (a person typing, or a pipe read 16 KiB at a time), so a Task per read is fine.
        _pending ??= Task.Run(() => input.ReadAsync(buffer.AsMemory(0, bufferSize), cancellationToken).AsTask(), CancellationToken.None);
        int read;
        try
        {
            read = await _pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            _pending = null;
            throw new InputReadException($"cannot read input: {ClientErrors.DescribeStreamError(ex) ?? ex.Message}", ex);
        }
        _pending = null;
        return buffer.AsMemory(0, read);
    }

    public void Dispose()
    {
        if (_pending is null || _pending.IsCompleted)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        // else: an abandoned read may still write into the buffer; the GC takes it once that read ends.
    }
}
