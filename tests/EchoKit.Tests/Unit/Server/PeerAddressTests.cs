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

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.3.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("128.0.0.1", false)]
    [InlineData("10.127.0.1", false)]
    [InlineData("1.0.0.127", false)]
    [InlineData("::2", false)]
    [InlineData("::ffff:192.0.2.1", false)]
    [InlineData("fe80::1%3", false)]
    [InlineData("::127.0.0.1", false)]
    public void LoopbackIsToldFromTheBytesAsIPAddressTellsIt(string address, bool loopback)
    {
        var ip = IPAddress.Parse(address);
        var sockaddr = new byte[SocketAddresses.MaxLength];
        var length = SocketAddresses.Write(new IPEndPoint(ip, 7), sockaddr);

        Assert.Equal(loopback, PeerAddress.Read(sockaddr.AsSpan(0, length)).IsLoopback);
        Assert.Equal(loopback, PeerAddress.From(new IPEndPoint(ip, 7)).IsLoopback);
        Assert.Equal(IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip), loopback);
        Assert.False(default(PeerAddress).IsLoopback);
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
