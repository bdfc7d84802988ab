using System.Net.Sockets;
using EchoKit.Testing;
using Microsoft.Extensions.Time.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Testing;

[Trait("Kind", "Functional")]
public sealed class MisbehavingUdpServerTests
{
    private static Socket Client(MisbehavingUdpServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(server.EndPoint);
        return socket;
    }

    private static async Task<byte> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[16];
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeouts.Token());
        Assert.Equal(1, read);
        return buffer[0];
    }

    [Fact]
    public async Task DroppingAnswersAllButEveryNth()
    {
        await using var server = MisbehavingUdpServer.Dropping(every: 3);
        using var client = Client(server);

        var answers = new List<byte>();
        for (byte i = 1; i <= 7; i++)
        {
            await client.SendAsync(new[] { i }, SocketFlags.None);
            if (i % 3 != 0)
            {
                // Datagrams 3 and 6 get no answer, so the next one to arrive is the next sent.
                answers.Add(await ReceiveAsync(client));
            }
        }

        Assert.Equal(new byte[] { 1, 2, 4, 5, 7 }, answers);
        // The server counts a datagram once it is handled, just after its answer left: the answer can arrive first.
        await TestTimeouts.WaitUntilAsync(() => server.Received == 7, "the seventh datagram to be counted");
        Assert.Equal(2, server.Dropped);
        Assert.Equal("udp", server.Uri.Scheme);
    }

    [Fact]
    public async Task CustomAnswersEachDatagramAsToldWithItsNumberAndSender()
    {
        var senders = new List<System.Net.IPEndPoint>();
        await using var server = MisbehavingUdpServer.Custom((n, data, from) =>
        {
            senders.Add(from);
            return n == 2 ? null : [(byte)(data[0] + 10 * n)];
        });
        using var client = Client(server);

        await client.SendAsync(new byte[] { 1 }, SocketFlags.None);
        var first = await ReceiveAsync(client);
        await client.SendAsync(new byte[] { 2 }, SocketFlags.None); // datagram 2: no answer
        await client.SendAsync(new byte[] { 3 }, SocketFlags.None);
        var third = await ReceiveAsync(client);

        Assert.Equal(11, first);
        Assert.Equal(33, third); // the next to arrive after the first is the third's: the second got none
        Assert.Equal(1, server.Dropped);
        Assert.All(senders, from => Assert.Equal(client.LocalEndPoint, from));
    }

    [Fact]
    public async Task DuplicatingAnswersEveryNthTwice()
    {
        await using var server = MisbehavingUdpServer.Duplicating(every: 2);
        using var client = Client(server);

        var answers = new List<byte>();
        for (byte i = 1; i <= 4; i++)
        {
            await client.SendAsync(new[] { i }, SocketFlags.None);
            answers.Add(await ReceiveAsync(client));
            if (i % 2 == 0)
            {
                answers.Add(await ReceiveAsync(client));
            }
        }

        Assert.Equal(new byte[] { 1, 2, 2, 3, 4, 4 }, answers);
        // An answer is counted just after it left: the client may hold the last one before the count moves.
        await TestTimeouts.WaitUntilAsync(() => server.Sent == 6, "the sixth answer to be counted");
    }

    [Fact]
    public async Task ReorderingReversesEachGroupAndFlushesAnIncompleteOne()
    {
        var time = new FakeTimeProvider();
        await using var server = MisbehavingUdpServer.Reordering(window: 3, flushAfter: TimeSpan.FromSeconds(1), timeProvider: time);
        using var client = Client(server);

        for (byte i = 1; i <= 5; i++)
        {
            await client.SendAsync(new[] { i }, SocketFlags.None);
        }
        var answers = new List<byte>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await ReceiveAsync(client));
        }
        await TestTimeouts.WaitUntilAsync(() => server.Received == 5, "datagrams 4 and 5 held");
        Assert.Equal(0, client.Available);
        time.Advance(TimeSpan.FromSeconds(1));
        answers.Add(await ReceiveAsync(client));
        answers.Add(await ReceiveAsync(client));

        Assert.Equal(new byte[] { 3, 2, 1, 5, 4 }, answers);
    }

    [Fact]
    public async Task BadPatternsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MisbehavingUdpServer.Dropping(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MisbehavingUdpServer.Reordering(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MisbehavingTcpServer.CorruptingByte(-1));
        await Task.CompletedTask;
    }
}
