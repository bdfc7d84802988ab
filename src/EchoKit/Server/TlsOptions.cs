using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoKit.Internal;

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

    /// <summary>Largest certificate or key file read: a PEM chain is a few KiB, so anything bigger is not one.</summary>
    internal const int MaxPemFileBytes = 1024 * 1024;

    /// <summary>
    /// Loads a certificate and its private key from PEM files (the key may also sit in the certificate file), each
    /// read at most 1 MiB. Throws <see cref="FileNotFoundException"/> for a missing file, else
    /// <see cref="InvalidDataException"/> with a one-line message naming the file: no certificate, no private key, an
    /// encrypted key (not supported), a key that is not the certificate's, a file over 1 MiB; and, wrapping the
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>, a file that cannot be read.
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
        var certificatePem = ReadPem(certificatePath);
        // One file read once: a pipe (--tls-cert <(cat cert.pem key.pem)) can be read only once.
        var keyPem = keyPath == certificatePath ? certificatePem : ReadPem(keyPath);

        if (!PemLabels(certificatePem).Contains("CERTIFICATE"))
        {
            throw new InvalidDataException($"no certificate found in '{certificatePath}' (expected PEM: -----BEGIN CERTIFICATE-----)");
        }
        // Checked here because CreateFromPem says "no key, malformed, or does not match" for all three.
        var keyLabels = PemLabels(keyPem);
        if (!keyLabels.Any(l => l.EndsWith("PRIVATE KEY", StringComparison.Ordinal) && l != "ENCRYPTED PRIVATE KEY"))
        {
            // PKCS#8 says ENCRYPTED PRIVATE KEY; OpenSSL's traditional form keeps its label and adds a Proc-Type header.
            throw new InvalidDataException(keyLabels.Contains("ENCRYPTED PRIVATE KEY") || keyPem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal)
                ? $"the private key in '{keyPath}' is encrypted: encrypted private keys are not supported (decrypt it with openssl pkey)"
                : $"no private key found in '{keyPath}' (expected PEM: -----BEGIN PRIVATE KEY-----)");
        }
        try
        {
            // CreateFromPem pairs the certificate with the key and fails when they do not match.
            return X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"TLS certificate '{certificatePath}' and key '{keyPath}' do not match (the key is not the certificate's)", ex);
        }
    }

    private static string ReadPem(string path)
    {
        try
        {
            return BoundedFile.ReadAllText(path, MaxPemFileBytes);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"TLS file {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read TLS file '{path}': {ex.Message.TrimEnd('.')}", ex);
        }
    }

    /// <summary>The labels of the well-formed PEM sections in <paramref name="text"/>, in order.</summary>
    private static List<string> PemLabels(string text)
    {
        var labels = new List<string>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            labels.Add(rest[fields.Label].ToString());
            rest = rest[fields.Location.End..];
        }
        return labels;
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
