using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoKit.Server;

/// <summary>
/// Settings for TLS listeners (<see cref="ListenProtocol.Tls"/>): the server certificate and the handshake bound.
/// TLS 1.2 and 1.3 are offered; older versions are not.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The server certificate, with its private key. Required when any listener is TLS; none by default.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// How long a client may take to complete the handshake before it is closed (and counted as a failed handshake).
    /// Default 10 s; 10 ms to 5 minutes. It bounds what a client that connects and says nothing can hold.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Loads a certificate and its private key from PEM files (the key may also sit in the certificate file).
    /// Throws <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> with a one-line message
    /// naming the file.
    /// </summary>
    public static X509Certificate2 LoadPem(string certificatePath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        ArgumentNullException.ThrowIfNull(keyPath);
        foreach (var path in new[] { certificatePath, keyPath })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"TLS file '{path}' does not exist", path);
            }
        }
        try
        {
            // CreateFromPemFile pairs the certificate with the key and fails when they do not match.
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot load TLS certificate '{certificatePath}' with key '{keyPath}': {ex.Message.TrimEnd('.')}", ex);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    /// <param name="certificateRequired">True when some listener speaks TLS.</param>
    public void Validate(bool certificateRequired)
    {
        if (HandshakeTimeout < TimeSpan.FromMilliseconds(10) || HandshakeTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"TLS handshake timeout must be from 10ms to 5m, not {HandshakeTimeout}", nameof(HandshakeTimeout));
        }
        if (certificateRequired && Certificate is null)
        {
            throw new ArgumentException("a TLS listener needs a certificate (TlsOptions.Certificate)", nameof(Certificate));
        }
        if (Certificate is { HasPrivateKey: false })
        {
            throw new ArgumentException("the TLS certificate has no private key", nameof(Certificate));
        }
    }
}
