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
/// So the reader holds a gate for as long as it is inside the <see cref="SslStream"/> (decrypting), and
/// lets go only while it waits for the network (inside <see cref="Transport.ReadAsync(Memory{byte}, CancellationToken)"/>);
/// <see cref="ShutdownAsync"/> takes the gate. A close therefore waits at most for one decryption, never for data.
/// </para>
/// </summary>
internal sealed class DuplexTlsStream : PassThroughStream
{
    private readonly Transport _transport;

    private DuplexTlsStream(SslStream ssl, Transport transport) : base(ssl)
    {
        Ssl = ssl;
        _transport = transport;
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
        await _transport.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Ssl.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _transport.LetGo();
        }
    }

    /// <summary>Reads go through the gate, which only the asynchronous path takes.</summary>
    public override int Read(Span<byte> buffer) => throw new NotSupportedException("read a DuplexTlsStream asynchronously");

    /// <summary>Sends close_notify, never while the reader is decrypting. Call it once, after the last write.</summary>
    public async Task ShutdownAsync()
    {
        await _transport.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await Ssl.ShutdownAsync().ConfigureAwait(false);
        }
        finally
        {
            _transport.Gate.Release();
        }
    }

    /// <summary>
    /// The connection under the <see cref="SslStream"/>, and the gate: the reader takes it on entering
    /// <see cref="DuplexTlsStream.ReadAsync(Memory{byte}, CancellationToken)"/> and lets go of it here, while it waits
    /// for the network.
    /// </summary>
    private sealed class Transport(Stream inner) : PassThroughStream(inner)
    {
        private bool _readerHolds; // touched only by the one reader (reads are sequential)

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public async ValueTask EnterAsync(CancellationToken cancellationToken)
        {
            await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            _readerHolds = true;
        }

        public void LetGo()
        {
            if (_readerHolds)
            {
                _readerHolds = false;
                Gate.Release();
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_readerHolds)
            {
                // The handshake's reads: nothing else runs then.
                return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            LetGo();
            var read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            await Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false); // a close in progress ends promptly
            _readerHolds = true;
            return read;
        }
    }
}
