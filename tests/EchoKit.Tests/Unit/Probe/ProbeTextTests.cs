using EchoKit.Cli.Output;
using EchoKit.Probe;

namespace EchoKit.Tests.Probe;

/// <summary>What <c>echokit probe</c> prints: its verdicts, and text a reflect server chose.</summary>
[Trait("Kind", "Unit")]
public sealed class ProbeTextTests
{
    [Fact]
    public void AnInstanceNameWithEscapeSequencesIsShownEscapedAndReadableTextIsKept()
    {
        var result = new LbProbeResult("tcp", 2, new Dictionary<string, int> { ["\u001b]0;owned\u0007\u001b[2J"] = 1, ["srv-é"] = 1 }, 0, FlowSticky: true);

        var text = ProbeText.Lb(result);

        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u0007', text);
        Assert.Contains(@"\x1b]0;owned\x07\x1b[2J: 1 (50%)", text);
        Assert.Contains("srv-é: 1 (50%)", text);
    }

    [Fact]
    public void TheKeepaliveSuggestionKeepsTheShortestLivedProtocolAlive()
    {
        var result = new IdleProbeResult(30, [new IdleFinding("tcp-outbound", 20, 21), new IdleFinding("tcp-inbound", 20, 21), new IdleFinding("udp-inbound", 3.5, 4)]);

        Assert.Equal(1, result.SuggestedKeepaliveSeconds);
        Assert.Contains("suggestion: send a keepalive at least every 1 s (half the shortest survival measured: idle UDP mappings, 3.5 s)", ProbeText.Idle(result));
    }

    [Fact]
    public void AProbeOfUdpAloneStillSuggestsAKeepalive()
    {
        var result = new IdleProbeResult(20, [new IdleFinding("udp-inbound", 4, 5)]);

        Assert.Equal(2, result.SuggestedKeepaliveSeconds);
    }

    [Theory]
    [InlineData(1500, 1500, 1500, false, false, "no limit below the route's MTU")]
    [InlineData(1500, 1400, 1500, false, true, "path MTU discovered through ICMP \"fragmentation needed\": the kernel lowered its path MTU")]
    [InlineData(1500, 1400, 1400, false, true, "path MTU discovered through ICMP \"fragmentation needed\": the kernel already knew path MTU 1400 before this run (an earlier ICMP, kept about 10 min)")]
    [InlineData(1500, 1500, 1500, true, false, "black hole: datagrams larger than that vanish and no ICMP \"fragmentation needed\" comes back")]
    public void TheMtuVerdictTellsAPathMtuLearnedBeforeTheRunFromOneLearnedDuringIt(int route, int path, int start, bool blackHole, bool icmp, string verdict)
    {
        var result = new MtuProbeResult(1372, route, path, start, 28, blackHole, icmp, null, null, 12);

        var lines = ProbeText.Mtu(result).ReplaceLineEndings("\n").Split('\n');

        Assert.Equal($"udp: largest payload with DF 1372 bytes (path MTU 1400); kernel path MTU {path}, route MTU {route}; 12 datagrams", lines[0]);
        Assert.Equal(verdict, lines[1]);
    }
}
