using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoKit.Cli.Configuration;
using EchoKit.Server;
using EchoKit.Server.AccessControl;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Cli")]
public sealed class ServeProductionCliTests
{
    [Theory]
    [InlineData(new[] { "--allow", "10.0.0.1/8" }, "'10.0.0.1/8'")]
    [InlineData(new[] { "--deny", "10.0.0.0/8", "--deny", "2001:db8::/200" }, "'2001:db8::/200'")]
    [InlineData(new[] { "--deny", "not-an-ip" }, "'not-an-ip'")]
    [InlineData(new[] { "--max-connections", "0" }, "--max-connections")]
    [InlineData(new[] { "--max-connections", "many" }, "--max-connections")]
    [InlineData(new[] { "--idle-timeout", "soon" }, "--idle-timeout")]
    [InlineData(new[] { "--unix", "/tmp/x.sock", "--unix-mode", "999" }, "--unix-mode")]
    [InlineData(new[] { "--unix", "/tmp/x.sock", "--unix-mode", "4755" }, "only permission bits")]
    [InlineData(new[] { "--unix-mode", "600" }, "--unix-mode needs --unix")]
    [InlineData(new[] { "--tls", "127.0.0.1:0" }, "--tls needs --tls-cert")]
    [InlineData(new[] { "--tls-cert", "cert.pem" }, "need a --tls listener")]
    [InlineData(new[] { "--proxy-protocol", "udp" }, "'udp' for --proxy-protocol")]
    [InlineData(new[] { "--proxy-timeout", "1s" }, "--proxy-timeout needs --proxy-protocol")]
    [InlineData(new[] { "--udp", "127.0.0.1:0", "--proxy-protocol" }, "--proxy-protocol: there is no TCP, TLS or Unix listener")]
    [InlineData(new[] { "--reflect-tcp", "127.0.0.1:0", "--proxy-protocol", "tcp" }, "--proxy-protocol: there is no TCP, TLS or Unix listener")]
    [InlineData(new[] { "--unix", "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock" }, "longer than 107 bytes")]
    [InlineData(new[] { "--engine", "fast" }, "'fast' for --engine")]
    [InlineData(new[] { "--io-threads", "0" }, "'0' for --io-threads")]
    [InlineData(new[] { "--io-threads", "-1" }, "'-1' for --io-threads")]
    [InlineData(new[] { "--tcp", "127.0.0.1:1", "--tcp", "127.0.0.1:1" }, "listeners tcp 127.0.0.1:1 and tcp 127.0.0.1:1 would both bind TCP port 1")]
    [InlineData(new[] { "--tcp", ":1", "--tcp", "127.0.0.1:1" }, "would both bind TCP port 1 (a wildcard and an address on it)")]
    [InlineData(new[] { "--udp", "127.0.0.1:1", "--reflect-udp", "127.0.0.1:1" }, "listeners udp 127.0.0.1:1 and reflect-udp 127.0.0.1:1 would both bind UDP port 1")]
    [InlineData(new[] { "--unix", "/tmp/x.sock", "--unix", "/tmp/../tmp/x.sock" }, "the Unix listener /tmp/../tmp/x.sock is given twice")]
    public async Task BadProductionFlagsExitWithUsageErrorNamingTheInput(string[] args, string expected)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", .. args]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.StartsWith("echokit serve: ", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("listening", stdout);
    }

    [Theory]
    [InlineData("--tcp", "tcp")]
    [InlineData("--udp", "udp")]
    [InlineData("--reflect-tcp", "reflect+tcp")]
    [InlineData("--metrics", "http")]
    public async Task AListenHostThatDoesNotResolveIsOneLineNamingTheListenerAndTheHost(string flag, string scheme)
    {
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--tcp", "127.0.0.1:0", flag, "no-such-host.invalid:7000"]);

        Assert.Equal(1, code);
        Assert.Equal($"echokit: cannot listen on {scheme}://no-such-host.invalid:7000: cannot resolve 'no-such-host.invalid': host not found", stderr.Trim());
        Assert.DoesNotContain("listening", stdout);
    }

    [Fact]
    public async Task BadRangeInAnAllowFileNamesFileAndLine()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(path, ["# trusted", "10.0.0.0/8", "192.168.1.300/24"]);
            var (code, _, stderr) = await EchokitProcess.RunAsync("serve", "--allow-file", path);
            Assert.Equal(2, code);
            Assert.Contains($"{path}:3:", stderr);
            Assert.Contains("'192.168.1.300/24'", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { "--allow-file", "/nonexistent/allow.txt" }, "--allow-file: /nonexistent/allow.txt: no such file")]
    [InlineData(new[] { "--tls", "127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem" }, "TLS file /nonexistent/cert.pem: no such file")]
    [InlineData(new[] { "--tls", "127.0.0.1:0", "--tls-cert", "/tmp" }, "TLS file /tmp: is a directory, not a file")]
    public async Task UnreadableInputFileFailsTheStartWithExitOneInOurWords(string[] args, string expected)
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync(["serve", .. args]);
        Assert.Equal(1, code);
        Assert.Equal($"echokit serve: {expected}\n", stderr);
    }

    public static TheoryData<string[], int, int, string> EndlessInputs => new()
    {
        { ["--config", "/dev/stdin"], ConfigLayering.MaxFileBytes, 2, "config file /dev/stdin" },
        { ["--tcp", "127.0.0.1:0", "--allow-file", "/dev/stdin"], IpAccessList.MaxFileBytes, 2, "--allow-file: /dev/stdin" },
        { ["--tcp", "127.0.0.1:0", "--deny-file", "/dev/stdin"], IpAccessList.MaxFileBytes, 2, "--deny-file: /dev/stdin" },
        { ["--tls", "127.0.0.1:0", "--tls-cert", "/dev/stdin"], TlsOptions.MaxPemFileBytes, 1, "TLS file /dev/stdin" },
    };

    [Theory]
    [MemberData(nameof(EndlessInputs))]
    public async Task AnInputThatNeverEndsFailsAsSoonAsItPassesItsCap(string[] args, int cap, int exitCode, string file)
    {
        await using var serve = EchokitProcess.Start(["serve", .. args, "--print-config"]);
        try
        {
            // One byte past the cap, and standard input stays open: a reader that waited for the end would never stop.
            await serve.WriteAsync(new byte[cap + 1]);
        }
        catch (IOException)
        {
            // The program stopped reading before the last byte; its exit code and message below say why.
        }

        Assert.Equal(exitCode, await serve.WaitForExitAsync());
        Assert.StartsWith($"echokit serve: {file}: larger than {cap / 1024} KiB", serve.Stderr);
        Assert.Single(serve.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EpollEngineWithNoTcpOrUnixListenerIsAUsageError(bool tls)
    {
        using var certificate = new TestCertificates();
        string[] listener = tls
            ? ["--tls", "127.0.0.1:0", "--tls-cert", certificate.CertificatePath, "--tls-key", certificate.KeyPath]
            : ["--udp", "127.0.0.1:0"];
        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", .. listener, "--engine", "epoll"]);
        Assert.Equal(2, code);
        Assert.Contains("epoll engine serves TCP and Unix listeners only", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("listening", stdout);
    }

    [Fact]
    public async Task VerboseServeSaysWhichEngineServesEachListener()
    {
        await using var server = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--engine", "epoll", "--io-threads", "2", "-v");
        await server.WaitForStdoutAsync("served by the epoll engine (2 event loop(s))");
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Theory]
    [InlineData("none")]
    [InlineData("empty")]
    [InlineData("encrypted")]
    [InlineData("other")]
    public async Task AnUnusableTlsKeyFailsTheStartWithExitOneSayingWhatIsWrong(string problem)
    {
        using var certificates = new TestCertificates();
        using var other = new TestCertificates();
        var empty = Path.Combine(certificates.Directory, "empty.pem");
        await File.WriteAllTextAsync(empty, "");
        var (key, expected) = problem switch
        {
            "none" => (null, $"no private key found in '{certificates.CertificatePath}'"),
            "empty" => (empty, $"no private key found in '{empty}'"),
            "encrypted" => (certificates.EncryptedKeyPath, $"the private key in '{certificates.EncryptedKeyPath}' is encrypted: encrypted private keys are not supported (decrypt it with openssl pkey)"),
            _ => (other.KeyPath, $"TLS certificate '{certificates.CertificatePath}' and key '{other.KeyPath}' do not match (the key is not the certificate's)"),
        };
        string[] keyArgs = key is null ? [] : ["--tls-key", key];

        var (code, stdout, stderr) = await EchokitProcess.RunAsync(["serve", "--tls", "127.0.0.1:0", "--tls-cert", certificates.CertificatePath, .. keyArgs]);

        Assert.Equal(1, code);
        Assert.StartsWith($"echokit serve: {expected}", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Parameter", stderr);
        Assert.DoesNotContain("listening", stdout);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ServeRunsTcpTlsAndUnixListenersAndRemovesTheSocketOnSigterm()
    {
        using var certificates = new TestCertificates();
        var path = TestServer.UnixPath();
        var allowFile = Path.Combine(Path.GetDirectoryName(path)!, "allow.txt");
        await File.WriteAllLinesAsync(allowFile, ["127.0.0.0/8  # loopback only"]);
        try
        {
            await using var serve = EchokitProcess.Start("serve", "--tcp", "127.0.0.1:0", "--tls", "127.0.0.1:0",
                "--tls-cert", certificates.CertificatePath, "--tls-key", certificates.KeyPath,
                "--unix", path, "--unix-mode", "600", "--allow-file", allowFile, "--max-connections", "10",
                "--idle-timeout", "1m", "--proxy-protocol", "unix", "--reuse-port");
            var tcpLine = (await serve.FindLineAsync(new Regex("^listening tcp://.*"))).Value;
            var tlsLine = (await serve.FindLineAsync(new Regex("^listening tls://.*"))).Value;
            Assert.Equal($"listening unix://{path}", (await serve.FindLineAsync(new Regex("^listening unix://.*"))).Value);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

            using var tcp = await TestClients.ConnectAsync(IPEndPoint.Parse(tcpLine["listening tcp://".Length..]));
            Assert.Equal("tcp"u8.ToArray(), await TestClients.EchoAsync(tcp, "tcp"u8.ToArray()));
            await using (var tls = await TestClients.ConnectTlsAsync(IPEndPoint.Parse(tlsLine["listening tls://".Length..])))
            {
                Assert.Equal("tls"u8.ToArray(), await TestClients.EchoAsync(tls, "tls"u8.ToArray()));
            }
            using (var unix = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(path)))
            {
                await unix.SendAsync("PROXY TCP4 192.0.2.55 10.0.0.1 3333 7\r\n"u8.ToArray());
                Assert.Equal("unix"u8.ToArray(), await TestClients.EchoAsync(unix, "unix"u8.ToArray()));
                await serve.FindLineAsync(new Regex(Regex.Escape("online 192.0.2.55:3333")));
            }

            tcp.Dispose();
            serve.Terminate();
            Assert.Equal(0, await serve.WaitForExitAsync());
            Assert.False(File.Exists(path), "the socket file is removed on exit");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
