using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EchoKit.Tests.Production;

/// <summary>A self-signed certificate for "localhost", made in the test and written as PEM files.</summary>
public sealed class TestCertificates : IDisposable
{
    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("echokit-tls-").FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificatePath = Path.Combine(Directory, "cert.pem");
        KeyPath = Path.Combine(Directory, "key.pem");
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
        EncryptedKeyPath = Path.Combine(Directory, "key-encrypted.pem");
        File.WriteAllText(EncryptedKeyPath, key.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1)));
        Thumbprint = certificate.Thumbprint;
    }

    public string Directory { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>The same key, encrypted (PKCS#8, -----BEGIN ENCRYPTED PRIVATE KEY-----, password "secret").</summary>
    public string EncryptedKeyPath { get; }

    public string Thumbprint { get; }

    public X509Certificate2 Load() => X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
