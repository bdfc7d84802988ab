using System.Net;
using EchoKit.Endpoints;

namespace EchoKit.Tests.Endpoints;

[Trait("Kind", "Unit")]
public sealed class EndpointResolverTests
{
    [Fact]
    public async Task WildcardListensOnOneDualStackIPv6Socket()
    {
        var addresses = await EndpointResolver.ResolveForListenAsync(EndpointParser.Parse(":50007"), CancellationToken.None);

        var only = Assert.Single(addresses);
        Assert.Equal(IPAddress.IPv6Any, only.Address);
        Assert.True(EndpointResolver.IsDualStackWildcard(EndpointParser.Parse(":50007"), only));
        Assert.False(EndpointResolver.IsDualStackWildcard(EndpointParser.Parse("[::]:50007"), only));
    }

    [Fact]
    public async Task HostNamesResolveThroughDns()
    {
        var addresses = await EndpointResolver.ResolveForConnectAsync(EndpointParser.Parse("localhost:7"), CancellationToken.None);

        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.True(IPAddress.IsLoopback(a.Address)));
        Assert.All(addresses, a => Assert.Equal(7, a.Port));
    }

    [Theory]
    [InlineData("127.0.0.1", 80, "tcp://127.0.0.1:80")]
    [InlineData("::", 50007, "tcp://[::]:50007")]
    [InlineData("::ffff:127.0.0.1", 5, "tcp://127.0.0.1:5")]
    public void FormatsUrisWithBracketedIPv6(string address, int port, string expected)
    {
        Assert.Equal(expected, EndpointResolver.FormatUri("tcp", new IPEndPoint(IPAddress.Parse(address), port)));
    }
}
