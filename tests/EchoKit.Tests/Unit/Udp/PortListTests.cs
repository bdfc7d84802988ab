using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;

namespace EchoKit.Tests.Udp;

[Trait("Kind", "Unit")]
public sealed class PortListTests
{
    [Theory]
    [InlineData("7", new[] { 7 })]
    [InlineData("0, 7,9", new[] { 0, 7, 9 })]
    [InlineData("13-15,echo", new[] { 7, 13, 14, 15 })]
    [InlineData("ftp-data", new[] { 20 })]
    [InlineData("none", new int[0])]
    [InlineData("default,5353", new[] { 1, 2, 5353 })]
    public void ParsesPortsRangesNamesAndDefaults(string text, int[] expected)
    {
        Assert.True(PortList.TryParse(text, [1, 2], out var ports, out var error), error);
        Assert.Equal(expected, ports);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("7,,9", "empty item")]
    [InlineData("70000", "0 to 65535")]
    [InlineData("20-10", "above")]
    [InlineData("nosuchservice", "unknown service")]
    public void RejectsBadListsWithAReason(string text, string reason)
    {
        Assert.False(PortList.TryParse(text, [], out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData(new[] { "7", "53", "4444" }, new[] { 7, 53, 4444 })]
    [InlineData(new[] { "default", "4444" }, new[] { 1, 2, 4444 })]
    [InlineData(new[] { "7,9", "13-14" }, new[] { 7, 9, 13, 14 })]
    [InlineData(new[] { "none" }, new int[0])]
    public void SeveralListsAddUp(string[] texts, int[] expected)
    {
        Assert.True(PortList.TryParse(texts, [1, 2], out var ports, out var error), error);
        Assert.Equal(expected, ports);
    }

    [Theory]
    [InlineData("none", "53")]
    [InlineData("none,53")]
    [InlineData("53", "none")]
    public void NoneCannotBeGivenWithOtherPorts(params string[] texts)
    {
        Assert.False(PortList.TryParse(texts, [], out _, out var error));
        Assert.Contains("'none' (an empty list) cannot be given with other ports", error);
    }

    [Theory]
    [InlineData(new int[0], "none")]
    [InlineData(new[] { 7 }, "7")]
    [InlineData(new[] { 161, 162, 7 }, "7,161,162")]
    [InlineData(new[] { 13, 14, 15, 16, 17, 18, 19, 7, 9 }, "7,9,13-19")]
    [InlineData(new[] { 0, 1, 2, 65535 }, "0-2,65535")]
    public void FormatsAListAsItIsParsedBack(int[] ports, string expected)
    {
        var text = PortList.Format(ports);

        Assert.Equal(expected, text);
        Assert.True(PortList.TryParse(text, [], out var back, out var error), error);
        Assert.Equal(ports.Order(), back);
    }
}
