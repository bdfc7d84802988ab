using System.Net;
using EchoKit.Probe.Internal;

namespace EchoKit.Tests.Probe;

/// <summary>
/// The route MTU <c>probe mtu</c> compares the kernel's path MTU with, read from this host's routing table and devices
/// (the namespace lab checks it beside a path MTU the kernel learned: ProbeLabTests).
/// </summary>
[Trait("Kind", "Functional")]
public sealed class RouteMtuTests
{
    [Fact]
    public void TheRouteToALoopbackAddressHasTheLoopbackDevicesMtu()
    {
        var lo = int.Parse(File.ReadAllText("/sys/class/net/lo/mtu"));

        Assert.Equal(lo, RouteMtu.Lookup(IPAddress.Loopback));
        Assert.Equal(lo, RouteMtu.Lookup(IPAddress.Parse("127.0.0.2")));
        Assert.Equal(lo, RouteMtu.Lookup(IPAddress.Loopback.MapToIPv6()));
    }

    [Fact]
    public void TheRouteToTheIpv6LoopbackHasTheLoopbacksIpv6Mtu()
    {
        // The IPv6 MTU of a device is its own setting (a router advertisement may lower it below the link's).
        const string setting = "/proc/sys/net/ipv6/conf/lo/mtu";
        Assert.True(File.Exists(setting), "this test needs IPv6 loopback");

        Assert.Equal(int.Parse(File.ReadAllText(setting)), RouteMtu.Lookup(IPAddress.IPv6Loopback));
    }
}
