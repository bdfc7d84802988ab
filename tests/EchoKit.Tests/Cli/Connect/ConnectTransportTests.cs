using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary><c>echokit connect</c> over the other transports: a Unix socket, one IP version.</summary>
[Trait("Kind", "Cli")]
public sealed class ConnectTransportTests
{
    [Fact]
    public async Task ConnectTalksOverAUnixSocketWithDashU()
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-{Guid.NewGuid():N}.sock");
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Unix(path));
        await using var server = new EchoServer(options);
        await server.StartAsync(TestTimeouts.Token());
        await using var connect = EchokitProcess.Start(["connect", "-U", path, "-v"]);

        await connect.WriteAsync("over unix\n");
        await connect.WaitForStdoutAsync("over unix\n");
        connect.CloseInput();

        Assert.Equal(0, await connect.WaitForExitAsync());
        Assert.Equal("over unix\n", connect.Stdout);
        Assert.Contains($"connected unnamed -> {path} (unix)", connect.Stderr);
    }

    [Theory]
    [InlineData("send")]
    [InlineData("connect")]
    public async Task AMissingUnixSocketIsNamedOnceInTheFailureLine(string command)
    {
        var path = Path.Combine(Path.GetTempPath(), $"echokit-missing-{Guid.NewGuid():N}.sock");

        var (code, _, stderr) = await EchokitProcess.RunAsync(command, path);

        Assert.Equal(1, code);
        Assert.Equal($"echokit: no Unix socket at {path}\n", stderr);
    }

    [Fact]
    public async Task ConnectWithDashSixToAnIpv4AddressSaysThereIsNoSuchAddress()
    {
        var (code, _, stderr) = await EchokitProcess.RunAsync(["connect", "-6", "127.0.0.1:7"]);

        Assert.Equal(1, code);
        Assert.Equal("echokit: 127.0.0.1:7: no address of the IP version asked for (-4/-6, --source)\n", stderr);
    }
}
