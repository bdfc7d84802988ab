using EchoKit.Server;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Unit")]
public sealed class EchoServerOptionsTests
{
    [Fact]
    public void DefaultsAreTheDocumentedSafeOnes()
    {
        var options = new EchoServerOptions();

        options.Validate();
        Assert.Equal(512, options.Backlog);
        Assert.Equal(64 * 1024, options.ReceiveBufferSize);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ShutdownTimeout);
        Assert.Equal(DumpMode.None, options.Dump);
        Assert.Equal(50007, EchoServerOptions.DefaultPort);
    }

    [Theory]
    [InlineData(0, 65536, 1, "backlog")]
    [InlineData(70000, 65536, 1, "backlog")]
    [InlineData(512, 100, 1, "receive buffer")]
    [InlineData(512, 64 * 1024 * 1024, 1, "receive buffer")]
    [InlineData(512, 65536, -1, "shutdown timeout")]
    [InlineData(512, 65536, 50 * 86400, "shutdown timeout")] // beyond what the shutdown's timer takes (49.7 days)
    public void ValidateRejectsOutOfRangeSettings(int backlog, int bufferSize, int shutdownSeconds, string named)
    {
        var options = new EchoServerOptions { Backlog = backlog, ReceiveBufferSize = bufferSize, ShutdownTimeout = TimeSpan.FromSeconds(shutdownSeconds) };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(named, error.Message);
        Assert.Throws<ArgumentException>(() => new EchoServer(options));
    }

    [Theory]
    [InlineData("127.0.0.1:7", "127.0.0.1:7", false, true)]
    [InlineData(":7", "[::1]:7", false, true)]
    [InlineData(":7", "127.0.0.1:7", true, false)]
    [InlineData("127.0.0.1:7", "[::1]:7", false, false)]
    [InlineData("127.0.0.1:0", "127.0.0.1:0", false, false)]
    [InlineData("127.0.0.1:7", "127.0.0.1:8", false, false)]
    public void TwoTcpListenersThatWouldBindTheSamePortAreRefusedBeforeAnyBind(string first, string second, bool reusePort, bool refused)
    {
        var options = new EchoServerOptions { ReusePort = reusePort };
        options.Endpoints.Add(ListenEndpoint.Tcp(first));
        options.Endpoints.Add(ListenEndpoint.Tcp(second));

        var error = Record.Exception(options.Validate);

        if (refused)
        {
            Assert.Contains("would both bind TCP port 7", Assert.IsType<ArgumentException>(error).Message);
        }
        else
        {
            Assert.Null(error);
        }
    }

    [Fact]
    public void TcpAndUdpListenersMayShareAPortNumber()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:7"));
        options.Endpoints.Add(ListenEndpoint.Udp("127.0.0.1:7"));
        options.Reflect.TcpEndpoints.Add(EchoKit.Endpoints.EndpointParser.Parse("127.0.0.1:8"));
        options.Reflect.UdpEndpoints.Add(EchoKit.Endpoints.EndpointParser.Parse("127.0.0.1:8"));

        options.Validate();
    }
}
