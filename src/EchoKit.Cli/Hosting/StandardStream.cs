namespace EchoKit.Cli.Hosting;

/// <summary>
/// Standard input, output or error with its failures named: whatever the stream underneath throws when the system
/// refuses a read or a write (an <see cref="IOException"/>, or .NET's <see cref="UnauthorizedAccessException"/> for
/// EBADF) comes out as a <see cref="StandardStreamException"/>, which <see cref="Program"/> turns into one line on
/// stderr. So no command needs a try/catch of its own around its output, and an I/O error of anything else (a file,
/// a socket) is never mistaken for one of these. The stream underneath stays open when this one is disposed.
/// </summary>
internal sealed class StandardStream(Stream inner, StandardStreamKind kind) : Stream
{
    public override bool CanRead => kind == StandardStreamKind.Input;
    public override bool CanWrite => kind != StandardStreamKind.Input;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return inner.Read(buffer);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override void Flush()
    {
        try
        {
            inner.Flush();
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(kind, ex);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // Already named by an inner StandardStream: passed on as it is.
    private static bool IsStreamError(Exception ex) => ex is (IOException and not StandardStreamException) or UnauthorizedAccessException;
}
