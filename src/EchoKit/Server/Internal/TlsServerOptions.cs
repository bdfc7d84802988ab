using System.Net.Security;
using System.Security.Authentication;

namespace EchoKit.Server.Internal;

/// <summary>Builds the one <see cref="SslServerAuthenticationOptions"/> every handshake of a server shares.</summary>
internal static class TlsServerOptions
{
    public static SslServerAuthenticationOptions Create(TlsOptions options)
    {
        var certificate = options.Certificate ?? throw new InvalidOperationException("a TLS listener needs a certificate");
        return new SslServerAuthenticationOptions
        {
            // Built once: the chain is resolved here, not in every handshake. Offline: no network fetches at start.
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateRequired = false,
            AllowRenegotiation = false,
        };
    }
}
