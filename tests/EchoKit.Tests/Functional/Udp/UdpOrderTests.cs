using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Functional")]
public sealed class UdpOrderTests
{
    private const int Datagrams = 20_000;
    private const int InFlight = 8;

    [Fact]
    public async Task RepliesToEachSourceLeaveInArrivalOrderWithSeveralReceiveLoops()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 4);
        var target = server.Target(IPAddress.Loopback);

        // Four sources at once, so the loops are all busy; each must see its own replies in order.
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => CountReorderedAsync(target)));

        Assert.All(results, r =>
        {
            Assert.Equal(0, r.Reordered);
            Assert.True(r.Answered > Datagrams * 9 / 10, $"only {r.Answered} of {Datagrams} answered");
        });
    }

    [Fact]
    public async Task SeveralReceiveLoopsStillFailOnAPortSomeoneElseHolds()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 4, endpoints: $"127.0.0.1:{port}"));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketError);
    }

    [Fact]
    public async Task SeveralReceiveLoopsAnswerEverySourceOnTheSamePort()
    {
        await using var server = await TestServer.StartUdpAsync(o => o.Udp.ReceiveLoops = 4);
        var target = server.Target(IPAddress.Loopback);

        var clients = Enumerable.Range(0, 32).Select(_ => new UdpTestClient()).ToList();
        try
        {
            foreach (var client in clients)
            {
                var (echo, from) = await client.ExchangeAsync("who"u8.ToArray(), target);
                Assert.Equal("who"u8.ToArray(), echo);
                Assert.Equal(target, from);
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Keeps <see cref="InFlight"/> numbered datagrams out; counts replies that come back below one already seen.</summary>
    private static async Task<(int Answered, int Reordered)> CountReorderedAsync(IPEndPoint target)
    {
        using var client = new UdpTestClient();
        var payload = new byte[32];
        var sent = 0;
        var answered = 0;
        var reordered = 0;
        var highest = -1;
        var outstanding = 0;
        while (sent < Datagrams || outstanding > 0)
        {
            while (outstanding < InFlight && sent < Datagrams)
            {
                BinaryPrimitives.WriteInt32LittleEndian(payload, sent++);
                await client.SendAsync(payload, target);
                outstanding++;
            }
            try
            {
                // Only a lost datagram (a full socket buffer) waits out this bound; the window is then refilled.
                var (echo, _) = await client.ReceiveAsync(TimeSpan.FromSeconds(1));
                var sequence = BinaryPrimitives.ReadInt32LittleEndian(echo);
                answered++;
                outstanding--;
                if (sequence < highest)
                {
                    reordered++;
                }
                highest = Math.Max(highest, sequence);
            }
            catch (TimeoutException)
            {
                outstanding = 0;
            }
        }
        return (answered, reordered);
    }
}
