using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Tests.Support;
using EchoKit.Testing;

namespace EchoKit.Tests.Client;

[Trait("Kind", "Functional")]
public sealed class EchoExchangeTests
{
    private static Task<ExchangeResult> RunAsync(int port, byte[] payload, TimeSpan? timeout = null, List<byte>? echoed = null, TimeProvider? time = null) =>
        EchoExchange.RunAsync(
            EndpointParser.Parse($"127.0.0.1:{port}"),
            new MemoryStream(payload),
            (chunk, _) => { echoed?.AddRange(chunk.ToArray()); return ValueTask.CompletedTask; },
            new ExchangeOptions { Timeout = timeout ?? TestTimeouts.Default },
            time ?? TimeProvider.System,
            TestTimeouts.Token());

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(3 * 1024 * 1024)]
    [InlineData(9 * 1024 * 1024)]
    public async Task PayloadOfAnySizeMatchesWithoutDeadlock(int size)
    {
        await using var server = await TestServer.StartAsync();
        var payload = SocketIo.RandomBytes(size, size);
        var echoed = new List<byte>();

        // 9 MiB is more than the client keeps unverified (4 MiB) and than the socket buffers hold.
        var result = await RunAsync(server.Port, payload, echoed: echoed);

        Assert.True(result.Success, result.Message);
        Assert.Equal(size, result.BytesSent);
        Assert.Equal(size, result.BytesReceived);
        Assert.Equal(payload, echoed.ToArray());
        Assert.NotNull(result.LocalEndPoint);
        Assert.NotNull(result.RemoteEndPoint);
    }

    [Fact]
    public async Task AFailureOfTheCallersOutputIsThrownAsItIsNotReportedAsATimeout()
    {
        await using var server = await TestServer.StartAsync();
        var full = new IOException("No space left on device", 28);
        var payload = SocketIo.RandomBytes(9 * 1024 * 1024, 3);

        // The writer is still sending when the first echo fails to print: its cancellation must not win.
        var thrown = await Assert.ThrowsAsync<IOException>(() => EchoExchange.RunAsync(
            EndpointParser.Parse($"127.0.0.1:{server.Port}"),
            new MemoryStream(payload),
            (_, _) => throw full,
            new ExchangeOptions { Timeout = TestTimeouts.Default },
            TimeProvider.System,
            TestTimeouts.Token()));

        Assert.Same(full, thrown);
    }

    [Fact]
    public async Task CorruptedByteIsReportedAsMismatchAtItsOffset()
    {
        await using var server = MisbehavingTcpServer.CorruptingByte(offset: 5000);

        var result = await RunAsync(server.Port, SocketIo.RandomBytes(20_000, 1));

        Assert.Equal(ExchangeOutcome.Mismatch, result.Outcome);
        Assert.Equal(5000, result.MismatchOffset);
        Assert.Equal("mismatch at byte 5000", result.Message);
    }

    [Fact]
    public async Task ServerClosingEarlyIsReportedWithCounts()
    {
        await using var server = MisbehavingTcpServer.ClosingAfter(100);

        var result = await RunAsync(server.Port, SocketIo.RandomBytes(100, 2).Concat(new byte[50]).ToArray());

        Assert.False(result.Success);
        Assert.Contains(result.Outcome, new[] { ExchangeOutcome.ClosedEarly, ExchangeOutcome.Reset });
        Assert.Matches(@"after 100 of 1[05]0 bytes", result.Message);
    }

    [Fact]
    public async Task SilentServerTimesOut()
    {
        await using var server = FakeServers.Silent();

        var timeout = TimeSpan.FromMilliseconds(300);
        var time = new TimerSignalingTimeProvider(timeout);

        var exchange = RunAsync(server.Port, "Hello, world"u8.ToArray(), timeout, time: time);
        await time.WhenStartedAsync(1);
        time.Fake.Advance(timeout - TimeSpan.FromTicks(1));
        Assert.False(exchange.IsCompleted, "ended before its timeout");
        time.Fake.Advance(TimeSpan.FromTicks(1));
        var result = await exchange;

        Assert.Equal(ExchangeOutcome.TimedOut, result.Outcome);
        Assert.Equal("timed out after 300ms", result.Message);
    }

    [Fact]
    public async Task NothingListeningIsConnectionRefused()
    {
        using var closed = new ClosedPort();
        var port = closed.Port;

        var result = await RunAsync(port, "x"u8.ToArray());

        Assert.Equal(ExchangeOutcome.Refused, result.Outcome);
        Assert.Equal("connection refused", result.Message);
    }

    [Fact]
    public async Task UnknownHostIsHostNotFound()
    {
        var result = await EchoExchange.RunAsync(EndpointParser.Parse("no-such-host.invalid:7"), new MemoryStream([1]), null,
            new ExchangeOptions { Timeout = TimeSpan.FromSeconds(20) }, null, TestTimeouts.Token());

        Assert.Equal(ExchangeOutcome.HostNotFound, result.Outcome);
        Assert.Equal("host not found", result.Message);
    }
}
