using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace EchoKit.Client.Internal;

/// <summary>
/// The client side of a TLS handshake over a connected socket, with validation that explains itself: the reason a
/// certificate was refused (untrusted, wrong name, expired) becomes the one-line error, and <c>--insecure</c> still
/// records what it ignored so it can be shown in a warning.
/// </summary>
internal sealed partial class TlsHandshake
{
    private readonly ConnectTlsOptions _options;
    private SslPolicyErrors _errors;
    private X509ChainStatusFlags _chainStatus;

    private TlsHandshake(ConnectTlsOptions options) => _options = options;

    /// <summary>The policy errors found (and ignored, under <see cref="ConnectTlsOptions.SkipValidation"/>).</summary>
    public string IgnoredErrors => Describe(_errors, _chainStatus);

    /// <summary>The name checked against the certificate (and sent as SNI unless it is an IP literal).</summary>
    public required string TargetHost { get; init; }

    public static TlsHandshake For(ConnectTlsOptions options, string? endpointHost) => new(options)
    {
        TargetHost = options.ServerName ?? endpointHost ?? "localhost",
    };

    /// <summary>Runs the handshake; throws <see cref="AuthenticationException"/> with a one-line reason when it fails.</summary>
    public Task<SslStream> AuthenticateAsync(Socket socket, CancellationToken cancellationToken) =>
        AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), cancellationToken);

    /// <summary>
    /// The handshake for a connection that is read and written at once and closed with close_notify while a read is
    /// pending (<c>connect</c>, <c>send</c>): see <see cref="DuplexTlsStream"/>.
    /// </summary>
    public Task<DuplexTlsStream> AuthenticateDuplexAsync(Socket socket, CancellationToken cancellationToken) =>
        DuplexTlsStream.AuthenticateAsync(new NetworkStream(socket, ownsSocket: false), AuthenticateAsync, cancellationToken);

    /// <summary>Runs the handshake over <paramref name="transport"/>, which the returned stream owns (and disposes on failure).</summary>
    private async Task<SslStream> AuthenticateAsync(Stream transport, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = TargetHost,
            RemoteCertificateValidationCallback = Validate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (_options.TrustedRoots is { } roots)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            options.CertificateChainPolicy = policy;
        }
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (AuthenticationException) when (_errors != SslPolicyErrors.None && !_options.SkipValidation)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException($"server certificate rejected: {Describe(_errors, _chainStatus)}"
                + (_options.TrustedRoots is null ? " (use --ca FILE to trust its CA, or --insecure to skip the check)" : ""));
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException($"TLS handshake failed: {Reason(ex)}", ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        _errors = errors;
        if (chain is not null)
        {
            foreach (var status in chain.ChainStatus)
            {
                _chainStatus |= status.Status;
            }
        }
        return errors == SslPolicyErrors.None || _options.SkipValidation;
    }

    private string Describe(SslPolicyErrors errors, X509ChainStatusFlags chain)
    {
        if (errors == SslPolicyErrors.None)
        {
            return "none";
        }
        var reasons = new List<string>(3);
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            reasons.Add("the server sent no certificate");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            reasons.Add($"it is not valid for the name '{TargetHost}'");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            reasons.Add(chain switch
            {
                _ when chain.HasFlag(X509ChainStatusFlags.UntrustedRoot) || chain.HasFlag(X509ChainStatusFlags.PartialChain) => "it is not signed by a trusted CA (self-signed or private CA)",
                _ when chain.HasFlag(X509ChainStatusFlags.NotTimeValid) => "it has expired or is not valid yet",
                _ when chain.HasFlag(X509ChainStatusFlags.Revoked) => "it was revoked",
                _ => $"its chain is invalid ({chain})",
            });
        }
        return string.Join("; ", reasons);
    }

    /// <summary>
    /// What a failed handshake's exception (thrown by <see cref="AuthenticateAsync(Stream, CancellationToken)"/>) holds
    /// beyond its one-line reason: .NET's and OpenSSL's own words ("SSL Handshake failed with OpenSSL error -
    /// SSL_ERROR_SSL (error:0A0000F4:SSL routines::unexpected message)"), for a verbose report; null when there is none.
    /// </summary>
    public static string? Detail(AuthenticationException exception) => exception.InnerException is { } cause ? OneLine(cause) : null;

    /// <summary>Why a handshake failed, in the user's words; the library's own text stays in <see cref="Detail"/>.</summary>
    private static string Reason(Exception ex)
    {
        var text = OneLine(ex);
        if (Mentions(text, "wrong version number", "packet length too long", "unexpected message", "record layer failure", "http request"))
        {
            // A plain echo server sends our ClientHello back, which OpenSSL reads as an out-of-place handshake message;
            // a text protocol's answer is no TLS record at all.
            return "the server did not answer with TLS (is it a plain TCP port?)";
        }
        if (Mentions(text, "unexpected EOF", "0 bytes from the transport stream", "connection reset", "broken pipe"))
        {
            return "the server closed the connection during the handshake";
        }
        if (Mentions(text, "protocol version", "no protocols available", "handshake failure", "no shared cipher", "insufficient security"))
        {
            return "the server and this client have no TLS version or cipher in common";
        }
        if (Mentions(text, "certificate required"))
        {
            return "the server asks for a client certificate, which this client does not send";
        }
        // OpenSSL's reason alone ("tlsv1 alert internal error"), without its error code and library name.
        var reason = OpenSslCode().Replace(Innermost(ex).Message, "").TrimEnd('.').ReplaceLineEndings(" ");
        return reason.Length > 0 ? reason : "the handshake broke off";
    }

    private static bool Mentions(string text, params ReadOnlySpan<string> phrases)
    {
        foreach (var phrase in phrases)
        {
            if (text.Contains(phrase, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } deeper)
        {
            ex = deeper;
        }
        return ex;
    }

    /// <summary>The exception's message, plus the innermost cause (OpenSSL's own reason, e.g. "wrong version number"), on one line.</summary>
    private static string OneLine(Exception ex)
    {
        var outer = ex.InnerException is { } first && ex.Message.Contains("inner exception", StringComparison.OrdinalIgnoreCase) ? first : ex;
        var innermost = Innermost(outer);
        var message = outer.Message.TrimEnd('.');
        if (!ReferenceEquals(innermost, outer))
        {
            message += $" ({innermost.Message.TrimEnd('.')})";
        }
        return message.ReplaceLineEndings(" ");
    }

    [GeneratedRegex(@"^error:[0-9A-Fa-f]+:[^:]*:[^:]*:")]
    private static partial Regex OpenSslCode();

    /// <summary>What a client reports about a finished handshake.</summary>
    public static (string Protocol, string Cipher, string Subject, string Issuer, string NotAfter) Describe(SslStream ssl)
    {
        var certificate = ssl.RemoteCertificate as X509Certificate2;
        return (
            ProtocolName(ssl.SslProtocol),
            ssl.NegotiatedCipherSuite.ToString(),
            certificate?.Subject ?? "none",
            certificate?.Issuer ?? "none",
            certificate?.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
    }

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
#pragma warning disable SYSLIB0039 // old versions named only to report what a server negotiated
        SslProtocols.Tls11 => "TLS 1.1",
        SslProtocols.Tls => "TLS 1.0",
#pragma warning restore SYSLIB0039
        _ => protocol.ToString(),
    };
}
