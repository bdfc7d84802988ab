using EchoKit.Server;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Server;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class TcpEchoTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    /// <summary>
    /// True runs the suite with bulk reads spliced for loopback clients too: the epoll engine splices only for clients
    /// on other machines, so without it no test on loopback would take the splice path.
    /// </summary>
    protected virtual bool SpliceOnHostClients => false;

    /// <summary>The suite's server, on its engine (and splicing as <see cref="SpliceOnHostClients"/> says).</summary>
    private Task<EchoKit.Testing.EchoTestServer> StartAsync(Action<EchoServerOptions>? configure = null, string endpoint = "127.0.0.1:0") =>
        TestServer.StartAsync(Engine, o =>
        {
            o.SpliceOnHostClients = SpliceOnHostClients;
            configure?.Invoke(o);
        }, endpoint);

    [Fact]
    public async Task ADumpedReadIsLoggedInSmallPiecesWhoseOffsetsRunOn()
    {
        // --dump hex of one large read made one string of about 5 characters a byte (a 256 KiB read: 2 MB, on the
        // large-object heap, freed only by a full collection). Pieces of at most DumpPieceSize keep every one small.
        await using var server = await StartAsync(o => o.Dump = DumpMode.Hex);
        var payload = new byte[10_000];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7);
        }
        using (var client = await server.ConnectAsync())
        {
            await SocketIo.SendAllAsync(client, payload);
            Assert.Equal(payload, await SocketIo.ReceiveExactlyAsync(client, payload.Length));
        }
        await server.Log.WaitForAsync("ConnectionClosed");

        var offset = 0L;
        foreach (var piece in server.Log.Named("Data"))
        {
            var count = int.Parse(piece.Field("Count"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(count, 1, EchoKit.Server.Internal.TcpEchoConnection.DumpPieceSize);
            Assert.StartsWith(offset.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + "  ", piece.Field("Data"));
            offset += count;
        }
        Assert.Equal(payload.Length, offset);
    }

    [Fact]
    public async Task ADumpShowsBytesThatAreNotUtf8AsHexAsAUdpDumpDoes()
    {
        // The text dump decoded each read with a UTF-8 decoder first, so 0xff and a lone 0x9b (a one-byte CSI) became
        // U+FFFD and the dump lost what the peer sent.
        await using var server = await StartAsync(o => o.Dump = DumpMode.Text);
        byte[] payload = [(byte)'A', 0xff, (byte)'B', 0x9b, (byte)'C'];
        using (var client = await server.ConnectAsync())
        {
            await SocketIo.SendAllAsync(client, payload);
            Assert.Equal(payload, await SocketIo.ReceiveExactlyAsync(client, payload.Length));
        }
        await server.Log.WaitForAsync("ConnectionClosed");

        Assert.Equal("A\\xffB\\x9bC", DumpedText(server));
    }

    [Fact]
    public async Task ADumpShowsACharacterCutByAReadWholeWithTheReadThatCompletesIt()
    {
        await using var server = await StartAsync(o => o.Dump = DumpMode.Text);
        var euro = Encoding.UTF8.GetBytes("€"); // e2 82 ac
        using (var client = await server.ConnectAsync())
        {
            // The echo of the first part shows the server has read it: the rest arrives in another read.
            byte[] first = [(byte)'x', euro[0], euro[1]];
            await SocketIo.SendAllAsync(client, first);
            Assert.Equal(first, await SocketIo.ReceiveExactlyAsync(client, first.Length));
            byte[] second = [euro[2], (byte)'y'];
            await SocketIo.SendAllAsync(client, second);
            Assert.Equal(second, await SocketIo.ReceiveExactlyAsync(client, second.Length));
        }
        await server.Log.WaitForAsync("ConnectionClosed");

        Assert.Equal("x€y", DumpedText(server));
        // Each line counts the bytes it shows, so the counts still add up to what was received.
        Assert.Equal(["1", "4"], server.Log.Named("Data").Select(e => e.Field("Count")));
    }

    [Fact]
    public async Task ADumpShowsACharacterThePeerNeverFinishedAsHexBeforeTheClosedLine()
    {
        // The decoder held the cut sequence for a next read that never came, and the dump silently lost the bytes.
        await using var server = await StartAsync(o => o.Dump = DumpMode.Text);
        byte[] payload = [(byte)'a', 0xe2, 0x82];
        using (var client = await server.ConnectAsync())
        {
            await SocketIo.SendAllAsync(client, payload);
            Assert.Equal(payload, await SocketIo.ReceiveExactlyAsync(client, payload.Length));
            client.Shutdown(SocketShutdown.Send);
            Assert.Empty(await SocketIo.ReceiveToEndAsync(client));
        }
        await server.Log.WaitForAsync("ConnectionClosed");

        Assert.Equal("a\\xe2\\x82", DumpedText(server));
    }

    private static string DumpedText(EchoKit.Testing.EchoTestServer server) =>
        string.Concat(server.Log.Named("Data").Select(e => e.Field("Data")));

    [Fact]
    public async Task TutorialClientGetsHelloWorldBack()
    {
        await using var server = await StartAsync();
        using var client = await server.ConnectAsync();

        await SocketIo.SendAllAsync(client, Encoding.UTF8.GetBytes("Hello, world"));
        var reply = await SocketIo.ReceiveExactlyAsync(client, 12);

        Assert.Equal("Hello, world", Encoding.UTF8.GetString(reply));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1023)]
    [InlineData(64 * 1024)]
    [InlineData(64 * 1024 + 1)]
    [InlineData(1024 * 1024)]
    [InlineData(16 * 1024 * 1024)]
    public async Task RandomPayloadComesBackExactlyThenServerCloses(int size)
    {
        await using var server = await StartAsync();
        using var client = await server.ConnectAsync();
        var payload = SocketIo.RandomBytes(size, seed: size);

        // Read while writing, as any correct client must for payloads larger than the socket buffers.
        var reading = SocketIo.ReceiveToEndAsync(client);
        await SocketIo.SendAllAsync(client, payload);
        client.Shutdown(SocketShutdown.Send);
        var echo = await reading;

        Assert.Equal(payload.Length, echo.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echo), "echo differs from payload");
    }

    [Fact]
    public async Task ThousandSmallWritesComeBackInOrder()
    {
        await using var server = await StartAsync();
        using var client = await server.ConnectAsync();
        var expected = new MemoryStream();

        var reading = SocketIo.ReceiveToEndAsync(client);
        for (var i = 0; i < 1000; i++)
        {
            var message = Encoding.ASCII.GetBytes($"message {i:D4};");
            expected.Write(message);
            await SocketIo.SendAllAsync(client, message);
        }
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(Encoding.ASCII.GetString(expected.ToArray()), Encoding.ASCII.GetString(await reading));
    }

    [Fact]
    public async Task ServerEchoesRemainingBytesAfterClientHalfCloses()
    {
        await using var server = await StartAsync();
        using var client = await server.ConnectAsync();
        var payload = SocketIo.RandomBytes(300_000, seed: 7);

        // Send everything and half-close before reading a single byte.
        var sending = SocketIo.SendAllAsync(client, payload);
        var reading = SocketIo.ReceiveToEndAsync(client);
        await sending;
        client.Shutdown(SocketShutdown.Send);
        var echo = await reading;

        Assert.True(payload.AsSpan().SequenceEqual(echo));
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 0, "the server to close its side");
    }

    [Fact]
    public async Task ABulkWriteComesBackWholeWhileTheClientWaitsWithoutSendingMore()
    {
        // 1 KiB reads: the megabyte queues far faster than the server's share of reads per report takes it, so the
        // server must come back for the rest on its own (the client sends nothing more and does not close).
        await using var server = await StartAsync(o => o.ReceiveBufferSize = 1024);
        using var client = await server.ConnectAsync();
        var payload = SocketIo.RandomBytes(1024 * 1024, seed: 11);

        var reading = SocketIo.ReceiveExactlyAsync(client, payload.Length);
        await SocketIo.SendAllAsync(client, payload);
        var echo = await reading;

        Assert.True(payload.AsSpan().SequenceEqual(echo), "echo differs from payload");
    }

    [Fact]
    public async Task TwoHundredConcurrentClientsAreEachEchoedExactly()
    {
        await using var server = await StartAsync();

        var clients = Enumerable.Range(0, 200).Select(i => EchoesExactlyAsync(server, SocketIo.RandomBytes(4096 + i, seed: i))).ToArray();

        var results = await Task.WhenAll(clients);
        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task NonReadingClientIsBoundedAndDoesNotDelayOthers()
    {
        const int bufferSize = 16 * 1024;
        await using var server = await StartAsync(o => o.ReceiveBufferSize = bufferSize);
        using var hog = await server.ConnectAsync();
        hog.ReceiveBufferSize = 64 * 1024;
        hog.Blocking = false;

        // The hog sends and never reads. Once every buffer between us is full, its sends must stop succeeding.
        var chunk = new byte[64 * 1024];
        long pushed = 0;
        var stalledSince = DateTime.UtcNow;
        while (DateTime.UtcNow - stalledSince < TimeSpan.FromMilliseconds(500))
        {
            Assert.True(pushed < 256L * 1024 * 1024, "the server kept reading from a client that does not read: unbounded buffering");
            if (hog.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectWrite))
            {
                var sent = hog.Send(chunk, SocketFlags.None, out var error);
                if (error == SocketError.Success && sent > 0)
                {
                    pushed += sent;
                    stalledSince = DateTime.UtcNow;
                }
            }
        }

        // The server holds at most one read buffer of the hog's data that it has not echoed (a bulk sender's buffer
        // grows to four times the configured size).
        var stats = Assert.Single(server.Server.ConnectionStats());
        Assert.InRange(stats.BytesIn - stats.BytesOut, 0, 4 * bufferSize);
        Assert.True(stats.BytesIn < pushed, "some of the hog's bytes should still wait in kernel buffers");

        // Meanwhile another client is served at once.
        using var other = await server.ConnectAsync();
        await SocketIo.SendAllAsync(other, "still here"u8.ToArray());
        Assert.Equal("still here", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(other, 10)));
    }

    [Fact]
    public async Task BulkEchoesStayExactWhileOtherClientsResetMidTransfer()
    {
        // Bulk reads share the loop's buffer (and, on epoll, its splice pipe): a connection that fails with bytes still
        // in them must not leave one byte behind for the next.
        await using var server = await StartAsync();

        var resetting = Enumerable.Range(0, 20).Select(async i =>
        {
            var client = await server.ConnectAsync();
            await SocketIo.SendAllAsync(client, SocketIo.RandomBytes(256 * 1024, seed: 100 + i));
            client.LingerState = new LingerOption(true, 0); // close() now sends RST, with echoes unread
            client.Close();
        });
        var echoing = Enumerable.Range(0, 4).Select(i => EchoesExactlyAsync(server, SocketIo.RandomBytes(2 * 1024 * 1024, seed: 200 + i))).ToArray();

        await Task.WhenAll(resetting);
        Assert.All(await Task.WhenAll(echoing), Assert.True);
        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 0, "every connection to be released");
    }

    [Fact]
    public async Task ResetStormLeavesNoConnectionBehind()
    {
        await using var server = await StartAsync();

        for (var round = 0; round < 5; round++)
        {
            var resets = Enumerable.Range(0, 100).Select(async i =>
            {
                var client = await server.ConnectAsync();
                await SocketIo.SendAllAsync(client, SocketIo.RandomBytes(1000, i));
                client.LingerState = new LingerOption(true, 0); // close() now sends RST
                client.Close();
            });
            await Task.WhenAll(resets);
        }

        await TestTimeouts.WaitUntilAsync(() => server.Server.ConnectionCount == 0, "every reset connection to be released");
        using var survivor = await server.ConnectAsync();
        await SocketIo.SendAllAsync(survivor, "ok"u8.ToArray());
        Assert.Equal("ok", Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(survivor, 2)));
    }

    [Fact]
    public async Task DualStackListenerEchoesIPv4AndIPv6Clients()
    {
        await using var server = await StartAsync(endpoint: ":0");
        Assert.Equal($"tcp://[::]:{server.Port}", server.Server.Listeners[0].Uri);

        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            using var client = await server.ConnectAsync(address);
            await SocketIo.SendAllAsync(client, Encoding.ASCII.GetBytes(address.ToString()));
            Assert.Equal(address.ToString(), Encoding.ASCII.GetString(await SocketIo.ReceiveExactlyAsync(client, address.ToString().Length)));
        }
    }

    /// <summary>
    /// One client sends <paramref name="payload"/> while reading (as any client must for payloads larger than the
    /// socket buffers), half-closes, and reads to the end: true when what came back is the payload exactly.
    /// </summary>
    private static async Task<bool> EchoesExactlyAsync(EchoKit.Testing.EchoTestServer server, byte[] payload)
    {
        using var client = await server.ConnectAsync();
        var reading = SocketIo.ReceiveToEndAsync(client);
        await SocketIo.SendAllAsync(client, payload);
        client.Shutdown(SocketShutdown.Send);
        var echo = await reading;
        return payload.AsSpan().SequenceEqual(echo);
    }
}
