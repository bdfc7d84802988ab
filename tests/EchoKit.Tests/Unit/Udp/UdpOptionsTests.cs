using EchoKit.Server;

namespace EchoKit.Tests.Udp;

/// <summary>The UDP listener's default rules, without a socket; the rules at work are <c>UdpRuleTests</c>.</summary>
[Trait("Kind", "Unit")]
public sealed class UdpOptionsTests
{
    [Fact]
    public void DefaultDenyListHoldsTheClassicServicePorts()
    {
        var options = new UdpOptions();
        foreach (var port in new[] { 0, 7, 9, 13, 17, 19, 37, 53, 69, 123, 161 })
        {
            Assert.Contains(port, options.DenySourcePorts);
        }
        Assert.True(options.DenyOwnPort);
        Assert.Equal(1000, options.RateLimit);
    }
}
