using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Faults;

/// <summary>The slowloris client: several connections that each send the next byte once per fake second.</summary>
internal static class Trickle
{
    public const int Clients = 10;

    /// <summary>
    /// Starts a server on <paramref name="options"/> with a fake clock, connects <see cref="Clients"/> clients, then
    /// for each fake second sends every one the next byte of <paramref name="bytes"/> and waits until the server read
    /// it. Checks none is cut before <paramref name="timeout"/>, all are at it, and nothing stays behind; returns the
    /// stopped server.
    /// </summary>
    public static async Task<EchoServer> RunAsync(EchoServerOptions options, TimeSpan timeout, LogCapture logs, byte[] bytes)
    {
        var time = new TimerSignalingTimeProvider(timeout);
        var server = await TestServer.StartServerAsync(options, logs, time);
        try
        {
            var baseline = ProcessDescriptors.Count();
            var sockets = new List<Socket>();
            try
            {
                for (var i = 0; i < Clients; i++)
                {
                    sockets.Add(await TestClients.ConnectAsync(server.Listeners[0]));
                }
                // Every connection's deadline exists: from here the fake clock is what the server measures.
                await time.WhenStartedAsync(Clients);

                var seconds = (int)Math.Ceiling(timeout.TotalSeconds);
                Assert.True(bytes.Length > seconds, "the trickle must outlast the timeout");
                for (var second = 0; second < seconds; second++)
                {
                    foreach (var socket in sockets)
                    {
                        Assert.Equal(1, await socket.SendAsync(bytes.AsMemory(second, 1), SocketFlags.None));
                    }
                    foreach (var socket in sockets)
                    {
                        await LoopbackQueues.WaitUntilServerReadAllAsync(socket);
                    }
                    Assert.Equal(0, server.Rejections.Total); // not cut early, however slow
                    time.Fake.Advance(TimeSpan.FromSeconds(1));
                }

                // The last second crossed the deadline: every trickler is closed, none got a byte back.
                foreach (var socket in sockets)
                {
                    Assert.True(await TestClients.ClosedWithoutDataAsync(socket));
                }
                await TestTimeouts.WaitUntilAsync(() => server.ConnectionCount == 0, "the tricklers' connections closed");
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
            await ProcessDescriptors.WaitForAtMostAsync(baseline, "after the tricklers");
            await server.StopAsync().WaitAsync(TestTimeouts.Default);
            return server;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
