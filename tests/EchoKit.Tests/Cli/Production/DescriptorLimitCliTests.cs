using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EchoKit.Internal;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <summary>
/// The server under a low descriptor limit (<c>ulimit -n</c>, in a shell that then runs it), with more clients than
/// descriptors: accepts fail with EMFILE, the server backs off and lives, and once clients leave it serves the ones
/// that waited. Without the descriptor reserve the runtime could not start a thread at the limit and ended the process
/// ("Out of memory."), on both engines; and it stops short of the limit by <see cref="DescriptorReserve.Headroom"/>,
/// because on the sockets engine the runtime sees a failed accept before our code can give the reserve up.
/// </summary>
[Trait("Kind", "Cli")]
[Collection(nameof(DescriptorLimitCliTests))] // many sockets each: one engine at a time
public sealed class DescriptorLimitCliTests
{
    private const int Limit = 300;   // the server's descriptors; the runtime takes about 100 of them before any client
    private const int Clients = 360; // all connect (the listen backlog queues them), more than the server can hold
    private const int Leaving = 240; // the first ones, which the server holds, leave; so do some it never took

    [Theory]
    [InlineData("epoll")]
    [InlineData("sockets")]
    public async Task OutOfDescriptorsTheServerBacksOffLivesAndServesTheClientsThatWaitedOnceOthersLeave(string engine)
    {
        await using var server = EchokitProcess.StartWrapped(
            ["sh", "-c", $"ulimit -n {Limit} && exec \"$@\"", "sh"],
            ["serve", "--tcp", "127.0.0.1:0", "--engine", engine]);
        var port = await server.WaitForListeningPortAsync();
        var target = new IPEndPoint(IPAddress.Loopback, port);

        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                clients.Add(await TestClients.ConnectAsync(target));
            }

            // The server runs out, says so, and keeps backing off up to its longest wait, twice (each back-off's timer
            // runs on a pool thread, which the runtime may have to start: the moment that used to end the process).
            await server.WaitForStdoutAsync("TooManyOpenSockets; retrying in 10 ms");
            await TestTimeouts.WaitUntilAsync(
                () => server.HasExited || Regex.Count(server.Stdout, "TooManyOpenSockets; retrying in 1000 ms") >= 2,
                "two back-offs of a second");
            Assert.False(server.HasExited, server.Stdout + server.Stderr);

            // It stopped short of the limit, not at it: the runtime keeps the headroom (less a thread start's pipe, if
            // one is starting now) besides the reserve. Filling the table, as before, left it only the reserve, and on
            // the sockets engine not even that at the moment an accept failed inside the runtime.
            var free = Limit - Directory.GetFileSystemEntries($"/proc/{server.Id}/fd").Length;
            Assert.True(free >= DescriptorReserve.Headroom - 8, $"{free} descriptors free at the back-off, under a limit of {Limit}");

            // Clients leave; the ones that waited in the listen queue are taken and echo.
            foreach (var leaving in clients.Take(Leaving))
            {
                leaving.Dispose();
            }
            var waited = clients.Skip(Leaving).ToList();
            foreach (var client in waited)
            {
                await SocketIo.SendAllAsync(client, "w"u8.ToArray());
                Assert.Equal("w", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, 1).WaitAsync(TestTimeouts.Default)));
            }

            // A new client too.
            using (var fresh = await TestClients.ConnectAsync(target))
            {
                await SocketIo.SendAllAsync(fresh, "n"u8.ToArray());
                Assert.Equal("n", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(fresh, 1).WaitAsync(TestTimeouts.Default)));
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.DoesNotContain("Out of memory", server.Stdout + server.Stderr);
    }
}
