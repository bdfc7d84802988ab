using EchoKit.Server;
using EchoKit.Tests.Production;

namespace EchoKit.Tests.Server;

/// <summary>
/// Listener settings refused before anything binds: PROXY, Unix socket and TLS settings out of range. Moved out of
/// the functional suites, where each ran once per engine although no engine is involved.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class ListenerSettingsTests
{
    [Fact]
    public void ProxySettingsOutOfRangeAreRefused()
    {
        var options = Proxied();
        options.ProxyProtocol.HeaderTimeout = TimeSpan.FromMilliseconds(1);
        Assert.Contains("PROXY header timeout", Assert.Throws<ArgumentException>(options.Validate).Message);
        var small = Proxied();
        small.ProxyProtocol.MaxHeaderLength = 100;
        Assert.Contains("from 232 to 65551", Assert.Throws<ArgumentException>(small.Validate).Message);
    }

    [Fact]
    public void BadUnixSettingsAreRefused()
    {
        var path = Path.Combine(Path.GetTempPath(), "echo.sock");
        Assert.Contains("permission bits only", Assert.Throws<ArgumentException>(Unix(path, (UnixFileMode)0xFFF).Validate).Message);
        Assert.Contains("longer than 107 bytes", Assert.Throws<ArgumentException>(Unix("/tmp/" + new string('s', 120)).Validate).Message);
        Assert.Contains("needs a socket path", Assert.Throws<ArgumentException>(Unix("").Validate).Message);
    }

    [Fact]
    public void TlsListenerWithoutCertificateIsRefused()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        Assert.Contains("needs a certificate", Assert.Throws<ArgumentException>(options.Validate).Message);
    }

    [Fact]
    public void LoadingMissingOrBadPemFilesNamesTheFile()
    {
        using var certificates = new TestCertificates();
        var missing = Path.Combine(certificates.Directory, "missing.pem");
        var ex = Assert.Throws<FileNotFoundException>(() => TlsOptions.LoadPem(missing, certificates.KeyPath));
        Assert.Contains(missing, ex.Message);

        var bogus = Path.Combine(certificates.Directory, "bogus.pem");
        File.WriteAllText(bogus, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        var bad = Assert.Throws<InvalidDataException>(() => TlsOptions.LoadPem(bogus, certificates.KeyPath));
        Assert.Contains(bogus, bad.Message);

        // A key that does not belong to the certificate.
        using var other = new TestCertificates();
        Assert.Throws<InvalidDataException>(() => TlsOptions.LoadPem(certificates.CertificatePath, other.KeyPath));
    }

    [Fact]
    public void EachKeyProblemIsNamedForWhatItIs()
    {
        using var certificates = new TestCertificates();
        using var other = new TestCertificates();
        var empty = Path.Combine(certificates.Directory, "empty.pem");
        File.WriteAllText(empty, "");
        var traditional = Path.Combine(certificates.Directory, "traditional.pem");
        File.WriteAllText(traditional, "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n");
        string Error(string certificate, string key) => Assert.Throws<InvalidDataException>(() => TlsOptions.LoadPem(certificate, key)).Message;

        Assert.StartsWith($"no private key found in '{certificates.CertificatePath}'", Error(certificates.CertificatePath, certificates.CertificatePath));
        Assert.StartsWith($"no private key found in '{empty}'", Error(certificates.CertificatePath, empty));
        Assert.Equal($"the private key in '{certificates.EncryptedKeyPath}' is encrypted: encrypted private keys are not supported (decrypt it with openssl pkey)",
            Error(certificates.CertificatePath, certificates.EncryptedKeyPath));
        Assert.Contains("is encrypted: encrypted private keys are not supported", Error(certificates.CertificatePath, traditional));
        Assert.StartsWith($"no certificate found in '{certificates.KeyPath}'", Error(certificates.KeyPath, certificates.KeyPath));
        Assert.Equal($"TLS certificate '{certificates.CertificatePath}' and key '{other.KeyPath}' do not match (the key is not the certificate's)",
            Error(certificates.CertificatePath, other.KeyPath));
    }

    [Fact]
    public void AFileHoldingBothTheCertificateAndItsKeyLoads()
    {
        using var certificates = new TestCertificates();
        var both = Path.Combine(certificates.Directory, "both.pem");
        File.WriteAllText(both, File.ReadAllText(certificates.CertificatePath) + "\n" + File.ReadAllText(certificates.KeyPath));

        using var loaded = TlsOptions.LoadPem(both, both);

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(certificates.Thumbprint, loaded.Thumbprint);
    }

    [Fact]
    public void PemFilesWithNoReportedSizeAreReadOnlyUpToTheirCap()
    {
        using var certificates = new TestCertificates();
        var cap = $"larger than {TlsOptions.MaxPemFileBytes / 1024} KiB";

        // /dev/zero reports no size and never ends: the read must stop at the cap, not at the end.
        Assert.Equal($"TLS file /dev/zero: {cap}", Assert.Throws<InvalidDataException>(() => TlsOptions.LoadPem("/dev/zero", certificates.KeyPath)).Message);
        Assert.Equal($"TLS file /dev/zero: {cap}", Assert.Throws<InvalidDataException>(() => TlsOptions.LoadPem(certificates.CertificatePath, "/dev/zero")).Message);
    }

    private static EchoServerOptions Proxied()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0") with { UseProxyProtocol = true });
        return options;
    }

    private static EchoServerOptions Unix(string path, UnixFileMode? mode = null)
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Unix(path, mode));
        return options;
    }
}
