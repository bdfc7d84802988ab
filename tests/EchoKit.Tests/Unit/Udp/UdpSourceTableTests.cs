using System.Net;
using System.Net.Sockets;
using EchoKit.Server.Internal;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Unit")]
public sealed class UdpSourceTableTests
{
    private static UdpSourceKey V4(uint address) => new(0, 0x0000_FFFF_0000_0000UL | address);

    [Fact]
    public void TableStaysWithinItsCapacityUnderManySources()
    {
        var table = new UdpSourceTable(capacity: 100, ratePerSecond: 10, burst: 10, new FakeTimeProvider());

        for (uint i = 0; i < 200_000; i++)
        {
            Assert.Equal(UdpSourceVerdict.AllowedNewSource, table.Check(V4(0x0A00_0000 + i), exempt: false));
        }

        Assert.True(table.Capacity <= 100, $"capacity {table.Capacity}");
        Assert.Equal(table.Capacity, table.Count);
    }

    [Fact]
    public void CheckingAllocatesNothing()
    {
        var table = new UdpSourceTable(capacity: 1024, ratePerSecond: 1000, burst: 1000, TimeProvider.System);
        table.Check(V4(1), exempt: false); // first call: JIT and lock set-up out of the way

        // 5,000 sources cycling through 1,024 places: nearly every call also evicts one.
        AllocationAssert.NothingPerCall(100_000, i => table.Check(V4((uint)(i % 5000)), exempt: false));
    }

    [Fact]
    public void FloodOfNewSourcesDoesNotResetABusySourcesBucket()
    {
        var time = new FakeTimeProvider();
        var table = new UdpSourceTable(capacity: 64, ratePerSecond: 10, burst: 10, time);
        var busy = V4(0xC000_0201);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(UdpSourceVerdict.Limited, table.Check(busy, exempt: false));
        }
        Assert.Equal(UdpSourceVerdict.LimitedFirst, table.Check(busy, exempt: false));

        var random = new Random(1);
        for (var i = 0; i < 20_000; i++)
        {
            table.Check(V4((uint)random.Next()), exempt: false);
            // Still remembered, still over its rate: the flood pushed out only the idle one-off entries.
            Assert.Equal(UdpSourceVerdict.Limited, table.Check(busy, exempt: false));
        }
    }

    [Fact]
    public void TokenBucketRefillsAtTheRateUpToTheBurst()
    {
        var time = new FakeTimeProvider();
        var table = new UdpSourceTable(capacity: 16, ratePerSecond: 10, burst: 5, time);
        var source = V4(1);

        for (var i = 0; i < 5; i++)
        {
            Assert.NotEqual(UdpSourceVerdict.Limited, table.Check(source, exempt: false));
        }
        Assert.Equal(UdpSourceVerdict.LimitedFirst, table.Check(source, exempt: false));
        Assert.Equal(UdpSourceVerdict.Limited, table.Check(source, exempt: false));

        time.Advance(TimeSpan.FromMilliseconds(100)); // one token at 10/s
        Assert.Equal(UdpSourceVerdict.Allowed, table.Check(source, exempt: false));
        Assert.Equal(UdpSourceVerdict.LimitedFirst, table.Check(source, exempt: false));

        time.Advance(TimeSpan.FromSeconds(60)); // refills to the burst, no further
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(UdpSourceVerdict.Allowed, table.Check(source, exempt: false));
        }
        Assert.Equal(UdpSourceVerdict.LimitedFirst, table.Check(source, exempt: false));
    }

    [Fact]
    public void ExemptSourceIsTrackedButNeverLimited()
    {
        var table = new UdpSourceTable(capacity: 16, ratePerSecond: 1, burst: 1, new FakeTimeProvider());

        Assert.Equal(UdpSourceVerdict.AllowedNewSource, table.Check(V4(1), exempt: true));
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(UdpSourceVerdict.Allowed, table.Check(V4(1), exempt: true));
        }
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.0.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("::2", false)]
    [InlineData("2001:db8::1", false)]
    public void LoopbackSourcesAreRecognised(string address, bool loopback) =>
        Assert.Equal(loopback, UdpSourceKey.From(IPAddress.Parse(address)).IsLoopback);

    [Theory]
    [InlineData("192.0.2.7", 7)]
    [InlineData("2001:db8::1", 65535)]
    [InlineData("::ffff:198.51.100.1", 50007)]
    public void KeyAndPortComeStraightFromTheSocketAddress(string text, int port)
    {
        var address = IPAddress.Parse(text);
        var socketAddress = new IPEndPoint(address, port).Serialize();

        Assert.Equal(UdpSourceKey.From(address), UdpSourceKey.From(socketAddress));
        Assert.Equal(port, UdpSourceKey.PortOf(socketAddress));
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // An IPv4 source seen on a dual-stack socket is the same source.
            Assert.Equal(UdpSourceKey.From(address), UdpSourceKey.From(new IPEndPoint(address.MapToIPv6(), port).Serialize()));
        }
    }
}
