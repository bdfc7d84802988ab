using System.Net.Sockets;
using System.Text.RegularExpressions;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <summary>
/// Clients whose own socket address is longer than the server's. As processes: the fault this guards against ended
/// the whole process (a FailFast on the runtime's socket event loop), which in-process would take the test run with it.
/// </summary>
[Trait("Kind", "Cli")]
public sealed class UnixClientAddressCliTests
{
    [Theory]
    [InlineData("sockets", false)]
    [InlineData("sockets", true)]
    [InlineData("epoll", false)]
    [InlineData("epoll", true)] // a PROXY header needs the managed accept loop even on the epoll engine
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ServerServesAClientBoundToANameLongerThanItsOwnPath(string engine, bool proxy)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // abstract names are Linux's
        }
        var path = TestServer.UnixPath();
        try
        {
            string[] args = ["serve", "--unix", path, "--engine", engine, .. proxy ? new[] { "--proxy-protocol" } : []];
            await using var serve = EchokitProcess.Start(args);
            await serve.FindLineAsync(new Regex("^listening unix://"));

            // An abstract name (no file) of 100 bytes, unique to this test; the server's path is about 25.
            var name = "\0echokit-test-" + Guid.NewGuid().ToString("N");
            await EchoFromAsync(new UnixDomainSocketEndPoint(name.PadRight(100, 'x')), path, proxy);
            // A path at the limit, 107 bytes.
            var longPath = Path.Combine(Path.GetDirectoryName(path)!, "c");
            await EchoFromAsync(new UnixDomainSocketEndPoint(longPath.PadRight(107, 'c')), path, proxy);
            await EchoFromAsync(null, path, proxy);

            serve.Terminate();
            Assert.Equal(0, await serve.WaitForExitAsync());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static async Task EchoFromAsync(UnixDomainSocketEndPoint? bound, string server, bool proxy)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (bound is not null)
        {
            client.Bind(bound);
        }
        await client.ConnectAsync(new UnixDomainSocketEndPoint(server), TestTimeouts.Token());
        if (proxy)
        {
            await client.SendAsync("PROXY UNKNOWN\r\n"u8.ToArray());
        }
        Assert.Equal("long name"u8.ToArray(), await TestClients.EchoAsync(client, "long name"u8.ToArray()));
    }
}
