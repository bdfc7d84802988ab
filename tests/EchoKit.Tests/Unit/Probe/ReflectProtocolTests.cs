using System.Text;
using EchoKit.Server.Reflect;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Unit")]
public sealed class ReflectProtocolTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(64)]
    [InlineData(1372)]
    [InlineData(9000)]
    public void APaddedRequestIsExactlyTheSizeAskedAndParsesBack(int size)
    {
        var request = new ReflectRequest(ReflectOperation.Echo, "m7", size, TimeSpan.Zero);

        var line = request.ToLine(size);

        Assert.Equal((byte)'\n', line[^1]);
        if (size > 0)
        {
            Assert.True(line.Length == size || size < line.Length, $"asked {size}, got {line.Length}");
        }
        Assert.True(ReflectRequest.TryParse(line.AsSpan(0, line.Length - 1), out var parsed, out var error), error);
        Assert.Equal(request, parsed);
    }

    [Fact]
    public void ARequestCutInsideItsPaddingStillParsesWhenMarkedTruncated()
    {
        var line = new ReflectRequest(ReflectOperation.Echo, "big", 20000, TimeSpan.Zero).ToLine(20000);

        Assert.False(ReflectRequest.TryParse(line.AsSpan(0, 4096), out _, out _));
        Assert.True(ReflectRequest.TryParse(line.AsSpan(0, 4096), out var parsed, out var error, truncated: true), error);
        Assert.Equal(20000, parsed.Size);
        Assert.Equal("big", parsed.Id);
    }

    [Theory]
    [InlineData("not json", "one JSON object")]
    [InlineData("{\"v\":2,\"op\":\"info\"}", "unsupported version")]
    [InlineData("{\"v\":1,\"op\":\"launch\"}", "unknown op")]
    [InlineData("{\"v\":1,\"op\":\"echo\",\"size\":-1}", "size")]
    [InlineData("{\"v\":1,\"id\":\"\\u0007bell\"}", "id must be")]
    public void ABadRequestIsRefusedWithAOneLineReason(string text, string reason)
    {
        Assert.False(ReflectRequest.TryParse(Encoding.UTF8.GetBytes(text), out _, out var error));
        Assert.Contains(reason, error);
        Assert.DoesNotContain('\n', error!);
    }

    [Fact]
    public void AReportRoundTripsThroughItsJson()
    {
        var report = new ReflectReport
        {
            Id = "a",
            Instance = "web-1",
            Transport = "udp",
            Client = "10.0.0.1:4000",
            Local = "10.0.0.2:7",
            DatagramSize = 512,
            Ttl = 61,
            Tos = 0x49,
        };

        Assert.True(ReflectReport.TryParse(report.ToJson(), out var parsed));

        Assert.Equal(report, parsed);
        Assert.Contains("\"dscp\":18,\"ecn\":1", Encoding.UTF8.GetString(report.ToJson()));
    }

    [Fact]
    public void TheSavedSynGivesTheMssOptionTtlAndTos()
    {
        // IPv4 header (20 bytes, TOS 0x28, TTL 63) + TCP header with options NOP, NOP, MSS 1000, end (28 bytes).
        byte[] syn =
        [
            0x45, 0x28, 0, 48, 0, 0, 0x40, 0, 63, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            0x9c, 0x40, 0x1b, 0x5f, 0, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0,
            1, 1, 2, 4, 0x03, 0xe8, 0, 0,
        ];

        var parsed = SavedSyn.Parse(syn);

        Assert.Equal(new SavedSyn(1000, 63, 0x28), parsed);
    }
}
