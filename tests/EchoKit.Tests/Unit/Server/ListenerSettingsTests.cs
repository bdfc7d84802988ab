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
