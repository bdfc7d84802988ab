using System.Net;
using EchoKit.Internal.Linux;
using EchoKit.Server.Internal;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Unit")]
public sealed class PeerAddressTests
{
    [Theory]
    [InlineData("127.0.0.1", 50007)]
    [InlineData("203.0.113.9", 1)]
    [InlineData("::1", 443)]
    [InlineData("::ffff:192.0.2.1", 65535)]
    [InlineData("fe80::1%3", 8080)]
    public void AnAddressReadFromTheKernelsBytesIsTheEndpointItCameFrom(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var sockaddr = new byte[SocketAddresses.MaxLength];
        var length = SocketAddresses.Write(endPoint, sockaddr);

        var peer = PeerAddress.Read(sockaddr.AsSpan(0, length));

        Assert.False(peer.IsEmpty);
        Assert.Equal(endPoint, peer.ToEndPoint());
        Assert.Equal(endPoint, PeerAddress.From(endPoint).ToEndPoint());
    }

    [Fact]
    public void AUnixOrShortAddressIsEmpty()
    {
        byte[] unix = [1, 0, (byte)'/', (byte)'x'];

        Assert.True(PeerAddress.Read(unix).IsEmpty);
        Assert.True(PeerAddress.Read([2]).IsEmpty);
        Assert.True(PeerAddress.From(null).IsEmpty);
        Assert.Null(default(PeerAddress).ToEndPoint());
    }
}
