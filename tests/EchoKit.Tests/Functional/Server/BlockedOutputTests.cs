using System.Net.Sockets;
using EchoKit.Cli.Output;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Server;

/// <summary>
/// The server as <c>echokit serve</c> wires it (events through the program's dropping output sink) with a stdout
/// nobody reads: a slow pipe, a terminal paused with Ctrl+S. Runs once per server engine: see EngineSuites.cs.
/// </summary>
[Trait("Kind", "Functional")]
public abstract class BlockedOutputTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    [Fact]
    public async Task ServerWhoseLogOutputIsNotReadKeepsAcceptingAndEchoing()
    {
        using var stdout = new GatedWriter();
        using var sink = new OutputSink(new OutputSinkOptions
        {
            MaxLines = 8,
            DroppedNotice = count => LineLoggerFactory.DroppedLinesNotice(LogFormat.Text, count),
        }, stdout, stdout);
        var options = TestServer.Tcp();
        options.Engine = Engine;
        await using var server = new EchoServer(options, new LineLoggerFactory(sink, LogFormat.Text, LogLevel.Information));
        await server.StartAsync(TestTimeouts.Token());

        using var first = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.Equal("a"u8.ToArray(), await TestClients.EchoAsync(first, "a"u8.ToArray()));
        await stdout.Held.WaitAsync(TestTimeouts.Default); // the sink's writer is stuck on its first line

        // Each client adds an online and a closed line: far more than the 8 lines the sink holds.
        for (var i = 0; i < 20; i++)
        {
            using var client = await TestClients.ConnectAsync(server.Listeners[0]);
            Assert.Equal([(byte)i], await TestClients.EchoAsync(client, [(byte)i]));
            client.Shutdown(SocketShutdown.Send);
            Assert.Empty(await SocketIo.ReceiveToEndAsync(client));
        }
        Assert.Equal("b"u8.ToArray(), await TestClients.EchoAsync(first, "b"u8.ToArray()));

        Assert.Empty(stdout.Lines); // all of the above happened with stdout blocked
        Assert.True(sink.DroppedLines > 0);

        stdout.Open();
        first.Shutdown(SocketShutdown.Send);
        Assert.Empty(await SocketIo.ReceiveToEndAsync(first));
        await server.StopAsync(TestTimeouts.Token());
        sink.Dispose();
        Assert.Contains(stdout.Lines, line => line.Contains("log line(s) dropped: the output was not read fast enough", StringComparison.Ordinal));
    }
}
