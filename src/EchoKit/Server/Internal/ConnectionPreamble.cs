using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Server.ProxyProtocol;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// What a stream connection goes through before its echo, on either engine: the PROXY header (when the listener
/// expects one) and the TLS handshake (on TLS listeners), each bounded in time. Either failing is a rejection,
/// counted and logged once. The bytes a client sent right behind its PROXY header are kept for the echo
/// (<see cref="EarlyData"/>) until the preamble is disposed.
/// </summary>
internal sealed class ConnectionPreamble(TcpEchoConnection connection, Socket socket) : IDisposable
{
    private readonly StreamListenerContext _context = connection.Context;
    private byte[]? _early;

    /// <summary>Bytes that came after the PROXY header, to be echoed first; empty after a TLS handshake.</summary>
    public ReadOnlyMemory<byte> EarlyData { get; private set; }

    /// <summary>The TLS stream once the handshake succeeded; owned by the caller from then on.</summary>
    public SslStream? Tls { get; private set; }

    /// <summary>True when the connection may be echoed; false when it was rejected (already counted and logged).</summary>
    public async ValueTask<bool> RunAsync()
    {
        if (_context.UseProxyProtocol)
        {
            var options = _context.Server.Options.ProxyProtocol;
            _early = ArrayPool<byte>.Shared.Rent(ProxyHeaderReader.BufferSize(options));
            var outcome = await ProxyHeaderReader.ReadAsync(socket, _early, options, _context.Server.Time).ConfigureAwait(false);
            if (!ApplyProxyHeader(outcome))
            {
                return false;
            }
            EarlyData = _early.AsMemory(outcome.HeaderLength, outcome.Received - outcome.HeaderLength);
        }
        if (_context.Tls is { } tlsOptions)
        {
            Tls = await HandshakeAsync(tlsOptions, EarlyData).ConfigureAwait(false);
            EarlyData = ReadOnlyMemory<byte>.Empty; // the handshake consumed it
            return Tls is not null;
        }
        return true;
    }

    /// <summary>Adopts the real client's address from the header, or rejects the connection (false).</summary>
    private bool ApplyProxyHeader(ProxyReadOutcome outcome)
    {
        var logger = connection.Logger;
        if (outcome.Header is not { } header)
        {
            _context.CountRejection(ConnectionRejectReason.ProxyHeader);
            ServerLog.ProxyHeaderRejected(logger, connection.Id, connection.Remote, _context.Uri, outcome.Error ?? "invalid");
            return false;
        }
        var proxy = connection.Remote;
        if (header.Command == ProxyCommand.Proxy && header.Source is { } source)
        {
            connection.SetRemote(EndpointResolver.FormatAddress(source));
        }
        if (logger.IsEnabled(LogLevel.Debug))
        {
            ServerLog.ProxyHeaderAccepted(logger, connection.Id, proxy, _context.Uri, header.Version,
                header.Command == ProxyCommand.Local ? "LOCAL" : "PROXY", connection.Remote);
        }
        return true;
    }

    private async Task<SslStream?> HandshakeAsync(SslServerAuthenticationOptions options, ReadOnlyMemory<byte> earlyData)
    {
        Stream transport = new NetworkStream(socket, ownsSocket: false);
        if (!earlyData.IsEmpty)
        {
            transport = new PrefixedStream(earlyData.ToArray(), transport);
        }
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        var timeout = _context.Server.Options.Tls.HandshakeTimeout;
        using var deadline = new CancellationTokenSource(timeout, _context.Server.Time);
        try
        {
            await tls.AuthenticateAsServerAsync(options, deadline.Token).ConfigureAwait(false);
            if (connection.Logger.IsEnabled(LogLevel.Debug))
            {
                ServerLog.TlsHandshakeCompleted(connection.Logger, connection.Id, connection.Remote, _context.Uri, tls.SslProtocol.ToString(), tls.NegotiatedCipherSuite.ToString());
            }
            return tls;
        }
        catch (Exception ex) when (!connection.IsAborted && ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            tls.Dispose();
            _context.CountRejection(ConnectionRejectReason.TlsHandshake);
            _context.Metrics.TlsHandshakeFailed(deadline.IsCancellationRequested ? "timeout" : "error");
            var why = deadline.IsCancellationRequested
                ? $"no handshake within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s"
                : Innermost(ex);
            ServerLog.TlsHandshakeFailed(connection.Logger, connection.Id, connection.Remote, _context.Uri, why);
            return null;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex.Message.ReplaceLineEndings(" ");
    }

    public void Dispose()
    {
        if (_early is not null)
        {
            ArrayPool<byte>.Shared.Return(_early);
            _early = null;
        }
    }
}
