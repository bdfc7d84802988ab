using EchoKit.Cli.Output;
using EchoKit.Probe;

namespace EchoKit.Tests.Probe;

/// <summary>What <c>echokit probe</c> prints of text a reflect server chose.</summary>
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
}
