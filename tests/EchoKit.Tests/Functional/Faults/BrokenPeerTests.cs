using System.Diagnostics;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Faults;

/// <summary>
/// Peers that break the rules on loopback (run once per engine, see Support/EngineSuites.cs): a reset in the middle
/// of the server's write, a backlog of one under a crowd of connects, and clients that send and never read. In each
/// case every descriptor comes back, no connection task sticks, and the stop completes within its timeout.
/// </summary>
[Trait("Kind", "Functional")]
public abstract class BrokenPeerTests(ServerEngine engine)
{
    // Room on a loaded machine for a stop whose own timeout is StopTimeout; a stuck task would hang far longer.
    private static readonly TimeSpan StopSlack = TestTimeouts.Default;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(1);

    protected ServerEngine Engine { get; } = engine;

    [Fact]
    public async Task ResetInTheMiddleOfABigEchoFreesEveryDescriptorAndStopStillCompletes()
    {
        await using var server = await StartAsync();
        await WarmUpAsync(server);
        var baseline = ProcessDescriptors.Count();

        // 64 MiB each, read back by nobody: more than every socket buffer on the path holds (the client's receive
        // buffer is fixed small, the rest autotune to at most 32 + 4 + 4 MiB here), so the server is still writing
        // its echo when the client resets.
        const int clients = 8;
        var payload = new byte[64 << 20];
        Random.Shared.NextBytes(payload);
        var sockets = new List<Socket>();
        var sends = new List<Task>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024, NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(TestClients.Loopback(server.Listeners[0]), TestTimeouts.Token());
                sends.Add(SendUntilBrokenAsync(socket, payload));
                // The first echoed byte proves the server is in its write.
                var first = new byte[1];
                Assert.Equal(1, await socket.ReceiveAsync(first.AsMemory(), SocketFlags.None).AsTask().WaitAsync(TestTimeouts.Default));
                Assert.Equal(payload[0], first[0]);
            }
            await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == clients, "every client connected");
            Assert.All(sends, send => Assert.False(send.IsCompleted, "a 64 MiB send finished although nobody read the echo"));

            foreach (var socket in sockets)
            {
                socket.LingerState = new LingerOption(true, 0); // close sends RST, not FIN
                socket.Close();
            }
            await Task.WhenAll(sends).WaitAsync(TestTimeouts.Default);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == 0, "the reset connections closed");
        await ProcessDescriptors.WaitForAtMostAsync(baseline, "after the resets");
        // The server still serves.
        await WarmUpAsync(server);
        await StopWithinTimeoutAsync(server);
    }

    [Fact]
    public async Task BacklogOfOneUnderACrowdServesOrCleanlyRefusesEveryClient()
    {
        await using var server = await StartAsync(options => options.Backlog = 1);
        await WarmUpAsync(server);
        var baseline = ProcessDescriptors.Count();

        const int clients = 64;
        using var gate = new SemaphoreSlim(0);
        var attempts = Enumerable.Range(0, clients).Select(i => ConnectAndEchoAsync(server, gate, i)).ToArray();
        gate.Release(clients); // all at once
        var outcomes = await Task.WhenAll(attempts).WaitAsync(TestTimeouts.Default);

        // Each client ends one way or the other, none with an unexpected error (those would have thrown above).
        var served = outcomes.Count(o => o == Outcome.Served);
        Assert.True(served >= 1, $"no client of {clients} was served");
        Assert.Equal(clients, outcomes.Length);

        await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == 0, "every client's connection closed");
        await ProcessDescriptors.WaitForAtMostAsync(baseline, "after the crowd");
        await WarmUpAsync(server);
        await StopWithinTimeoutAsync(server);
    }

    [Fact]
    public async Task ClientsThatSendAndNeverReadDoNotStopOthersBeingServedAndStopAbortsThem()
    {
        // Small buffers so that the back-pressure bound (4 x 16 KiB per connection) is reached quickly.
        await using var server = await StartAsync(options => options.ReceiveBufferSize = 16 * 1024);
        await WarmUpAsync(server);
        var baseline = ProcessDescriptors.Count();

        const int clients = 200;
        // The clients' own buffers are fixed small, so 8 MiB cannot all sit in kernel buffers: the writers stay stuck.
        var payload = new byte[8 << 20];
        var sockets = new List<Socket>();
        var sends = new List<Task>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendBufferSize = 64 * 1024, NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(TestClients.Loopback(server.Listeners[0]), TestTimeouts.Token());
                sends.Add(SendUntilBrokenAsync(socket, payload));
            }
            await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == clients, $"{clients} writers connected");

            // Someone else is still served, byte for byte.
            var probe = new byte[256 * 1024];
            Random.Shared.NextBytes(probe);
            using (var other = await TestClients.ConnectAsync(server.Listeners[0]))
            {
                Assert.Equal(probe, await TestClients.EchoAsync(other, probe));
            }
            Assert.Contains(sends, send => !send.IsCompleted);

            // Stop while every writer is stuck: the timeout passes and the rest are aborted.
            await StopWithinTimeoutAsync(server);
            Assert.Equal(0, server.ConnectionCount);
            await Task.WhenAll(sends).WaitAsync(TestTimeouts.Default);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
        await ProcessDescriptors.WaitForAtMostAsync(baseline, "after the writers and the stop");
    }

    private enum Outcome
    {
        Served,
        Refused,
        TimedOut,
    }

    private async Task<EchoServer> StartAsync(Action<EchoServerOptions>? configure = null)
    {
        var options = TestServer.Tcp();
        options.ShutdownTimeout = StopTimeout;
        configure?.Invoke(options);
        return await TestServer.StartServerAsync(Engine, options, TestServer.Logs());
    }

    /// <summary>One echo, so that the engine's loops and the runtime's socket engine exist before a baseline is taken.</summary>
    private static async Task WarmUpAsync(EchoServer server)
    {
        using var socket = await TestClients.ConnectAsync(server.Listeners[0]);
        Assert.Equal("warm"u8.ToArray(), await TestClients.EchoAsync(socket, "warm"u8.ToArray()));
    }

    private static async Task StopWithinTimeoutAsync(EchoServer server)
    {
        var watch = Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(StopTimeout + StopSlack);
        Assert.True(watch.Elapsed < StopTimeout + StopSlack, $"stop took {watch.Elapsed}");
    }

    /// <summary>Sends until the payload is gone or the socket breaks under it (the test resets or the server aborts it).</summary>
    private static async Task SendUntilBrokenAsync(Socket socket, byte[] payload)
    {
        try
        {
            var sent = 0;
            while (sent < payload.Length)
            {
                sent += await socket.SendAsync(payload.AsMemory(sent), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Expected: the test closed this socket, or the server aborted the connection.
        }
    }

    private static async Task<Outcome> ConnectAndEchoAsync(EchoServer server, SemaphoreSlim gate, int index)
    {
        await gate.WaitAsync();
        // Linux retries a dropped SYN after 1, 3, 7 s: 15 s leaves room for a few retries, then counts a time-out.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(TestClients.Loopback(server.Listeners[0]), deadline.Token);
            var message = BitConverter.GetBytes(index);
            await socket.SendAsync(message, SocketFlags.None, deadline.Token);
            var echoed = new byte[message.Length];
            var read = 0;
            while (read < echoed.Length)
            {
                var n = await socket.ReceiveAsync(echoed.AsMemory(read), SocketFlags.None, deadline.Token);
                if (n == 0)
                {
                    return Outcome.Refused;
                }
                read += n;
            }
            Assert.Equal(message, echoed);
            return Outcome.Served;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return Outcome.Refused;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return Outcome.TimedOut;
        }
    }
}
