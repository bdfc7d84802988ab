using System.Security.Cryptography.X509Certificates;

namespace EchoKit.Client;

/// <summary>TLS settings for <see cref="InteractiveClient"/>: who the server must prove to be, and whom to trust.</summary>
public sealed class ConnectTlsOptions
{
    /// <summary>
    /// The name sent as SNI and checked against the server's certificate. Default null: the endpoint's host
    /// (an IP literal is checked but, as RFC 6066 requires, not sent as SNI), or <c>localhost</c> when none was given.
    /// </summary>
    public string? ServerName { get; set; }

    /// <summary>
    /// Trust anchors to use instead of the system's (e.g. a private CA, or a self-signed server certificate, from
    /// <c>--ca FILE</c>). Default null: the system trust store.
    /// </summary>
    public X509Certificate2Collection? TrustedRoots { get; set; }

    /// <summary>
    /// Accept any certificate (<c>--insecure</c>): the connection is encrypted but the server is not authenticated.
    /// Logged as a warning with the errors that were ignored. Default false.
    /// </summary>
    public bool SkipValidation { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> when the settings contradict each other.</summary>
    public void Validate()
    {
        if (SkipValidation && TrustedRoots is not null)
        {
            throw new ArgumentException("trusted roots make no sense when validation is skipped", nameof(SkipValidation));
        }
        if (TrustedRoots is { Count: 0 })
        {
            throw new ArgumentException("the trusted roots collection is empty", nameof(TrustedRoots));
        }
        if (ServerName is { Length: 0 })
        {
            throw new ArgumentException("server name is empty", nameof(ServerName));
        }
    }
}
