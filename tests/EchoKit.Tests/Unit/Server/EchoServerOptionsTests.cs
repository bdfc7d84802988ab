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
    public void ValidateRejectsOutOfRangeSettings(int backlog, int bufferSize, int shutdownSeconds, string named)
    {
        var options = new EchoServerOptions { Backlog = backlog, ReceiveBufferSize = bufferSize, ShutdownTimeout = TimeSpan.FromSeconds(shutdownSeconds) };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(named, error.Message);
        Assert.Throws<ArgumentException>(() => new EchoServer(options));
    }
}
