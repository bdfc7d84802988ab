using System.Runtime.InteropServices;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Standard input, output or error with its failures named: whatever the stream underneath throws when the system
/// refuses a read or a write (an <see cref="IOException"/>, or .NET's <see cref="UnauthorizedAccessException"/> for
/// EBADF) comes out as a <see cref="StandardStreamException"/>, which <see cref="Program"/> turns into one line on
/// stderr. So no command needs a try/catch of its own around its output, and an I/O error of anything else (a file,
/// a socket) is never mistaken for one of these. The stream underneath stays open when this one is disposed.
/// </summary>
internal sealed class StandardStream : Stream
{
    private const int EBADF = 9;
    private readonly Stream? _inner;
    private readonly StandardStreamKind _kind;

    private StandardStream(StandardStreamKind kind, Stream? inner)
    {
        _kind = kind;
        _inner = inner;
    }

    /// <summary>
    /// Standard input, output or error: the stream <paramref name="open"/> gives, named. When the program was started
    /// without that descriptor (<see cref="InheritedDescriptors"/>), a stream that reads nothing and refuses writes with
    /// EBADF, as the closed descriptor would have, and leaves the runtime's pipe that took its number alone.
    /// </summary>
    public static Stream Open(StandardStreamKind kind, Func<Stream> open)
    {
        var inherited = kind switch
        {
            StandardStreamKind.Input => InheritedDescriptors.Input,
            StandardStreamKind.Output => InheritedDescriptors.Output,
            _ => InheritedDescriptors.Error,
        };
        return new StandardStream(kind, inherited ? open() : null);
    }

    public override bool CanRead => _kind == StandardStreamKind.Input;
    public override bool CanWrite => _kind != StandardStreamKind.Input;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _inner?.Read(buffer) ?? 0;
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return _inner is null ? 0 : await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            (_inner ?? throw NotInherited()).Write(buffer);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await (_inner ?? throw NotInherited()).WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override void Flush()
    {
        try
        {
            _inner?.Flush();
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_inner is not null)
            {
                await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsStreamError(ex))
        {
            throw new StandardStreamException(_kind, ex);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // What write(2) says of a descriptor that is not open; caught and named like any other failure.
    private static IOException NotInherited() => new(Marshal.GetPInvokeErrorMessage(EBADF), EBADF);

    // Already named by an inner StandardStream: passed on as it is.
    private static bool IsStreamError(Exception ex) => ex is (IOException and not StandardStreamException) or UnauthorizedAccessException;
}
