using System.Net.Security;
using EchoKit.Internal;

namespace EchoKit.Client.Internal;

/// <summary>
/// A TLS connection that one task reads while another writes and then closes its sending side with close_notify:
/// what <c>connect</c> and <c>send</c> do. <see cref="SslStream"/> lets one read and one write run at once, and it
/// serialises decryption and encryption under a lock of its own, but <see cref="SslStream.ShutdownAsync"/> builds the
/// close_notify alert without that lock. On Linux both reach the same OpenSSL object, which must never be used by two
/// threads at once; a close_notify built while the reader decrypts an echo that has just arrived can corrupt the
/// session, and then the echo is never delivered and the shutdown never completes (seen about once in a few hundred
/// runs of <c>connect --tls</c> under load, and as a 30 s hang in CI).
/// <para>
/// So the reader holds <see cref="_gate"/> for as long as it is inside the <see cref="SslStream"/> (decrypting), and
/// lets go only while it waits for the network (inside <see cref="Transport.ReadAsync(Memory{byte}, CancellationToken)"/>);
/// <see cref="ShutdownAsync"/> takes the gate. A close therefore waits at most for one decryption, never for data.
/// </para>
/// </summary>
internal sealed class DuplexTlsStream : PassThroughStream
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _readerHolds; // touched only by the one reader (reads are sequential)

    private DuplexTlsStream(SslStream ssl, Transport transport) : base(ssl)
    {
        Ssl = ssl;
        transport.Owner = this;
    }

    /// <summary>The authenticated stream, for its protocol, cipher and certificate.</summary>
    public SslStream Ssl { get; }

    /// <summary>Runs the client handshake over <paramref name="transport"/> and wraps the result.</summary>
    /// <param name="transport">The connection (a <see cref="System.Net.Sockets.NetworkStream"/>); owned from now on.</param>
    /// <param name="authenticate">The handshake: given the stream to run TLS over, returns the authenticated stream.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    public static async Task<DuplexTlsStream> AuthenticateAsync(Stream transport, Func<Stream, CancellationToken, Task<SslStream>> authenticate, CancellationToken cancellationToken)
    {
        var gated = new Transport(transport);
        var ssl = await authenticate(gated, cancellationToken).ConfigureAwait(false);
        return new DuplexTlsStream(ssl, gated);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        _readerHolds = true;
        try
        {
            return await Ssl.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            LetGo();
        }
    }

    /// <summary>Reads go through the gate, which only the asynchronous path takes.</summary>
    public override int Read(Span<byte> buffer) => throw new NotSupportedException("read a DuplexTlsStream asynchronously");

    /// <summary>Sends close_notify, never while the reader is decrypting. Call it once, after the last write.</summary>
    public async Task ShutdownAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await Ssl.ShutdownAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void LetGo()
    {
        if (_readerHolds)
        {
            _readerHolds = false;
            _gate.Release();
        }
    }

    /// <summary>The reader waits for the network (and only that) without the gate.</summary>
    private async ValueTask<int> WaitForNetworkAsync(Stream inner, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_readerHolds)
        {
            // A read outside ReadAsync (the handshake's): nothing else runs then.
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        LetGo();
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false); // a close in progress ends promptly
        _readerHolds = true;
        return read;
    }

    /// <summary>The connection under the <see cref="SslStream"/>: its reads are where the reader lets go of the gate.</summary>
    private sealed class Transport(Stream inner) : PassThroughStream(inner)
    {
        public DuplexTlsStream? Owner { get; set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Owner is { } owner ? owner.WaitForNetworkAsync(Inner, buffer, cancellationToken) : Inner.ReadAsync(buffer, cancellationToken);
    }
}
