using System.Net;
using EchoKit.Server.AccessControl;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Unit")]
public sealed class IpAccessListTests
{
    private static IpAccessList List(string[] allow, string[] deny) =>
        new(allow.Select(IpNetwork.Parse), deny.Select(IpNetwork.Parse));

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.168.1.0/24", "192.168.1.255", true)]
    [InlineData("192.168.1.0/24", "192.168.2.0", false)]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::/0", "fe80::1", true)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("127.0.0.1/32", "::ffff:127.0.0.1", true)]
    [InlineData("127.0.0.1/32", "::ffff:127.0.0.2", false)]
    [InlineData("2001:db8::/127", "2001:db8::1", true)]
    [InlineData("2001:db8::/127", "2001:db8::2", false)]
    public void NetworkContainsExactlyItsAddresses(string range, string address, bool expected)
    {
        Assert.Equal(expected, IpNetwork.Parse(range).Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData(" 192.0.2.1 ", "192.0.2.1/32")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    public void NetworkParsesAndPrintsCidr(string text, string expected)
    {
        Assert.Equal(expected, IpNetwork.Parse(text).ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("10.0.0.0/33", "prefix length must be a number from 0 to 32")]
    [InlineData("2001:db8::/129", "from 0 to 128")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.0/8/8", "prefix length")]
    [InlineData("10.0.0.1/8", "did you mean 10.0.0.0/8")]
    [InlineData("10.0.0.300/8", "is not an IPv4 or IPv6 address")]
    [InlineData("10.1/16", "is not an IPv4 or IPv6 address")]
    [InlineData("10", "is not an IPv4 or IPv6 address")]
    [InlineData("example.com/8", "is not an IPv4 or IPv6 address")]
    [InlineData("fe80::1%eth0/64", "is not an IPv4 or IPv6 address")]
    [InlineData("::ffff:10.0.0.0/104", "write IPv4-mapped ranges as IPv4")]
    public void NetworkRejectsBadRangesNamingThem(string text, string reason)
    {
        Assert.False(IpNetwork.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
        if (text.Trim().Length > 0)
        {
            Assert.Contains(text.Trim(), error);
        }
    }

    [Fact]
    public void EmptyListAllowsEveryone()
    {
        var list = List([], []);
        Assert.True(list.IsEmpty);
        Assert.True(list.Allows(IPAddress.Parse("198.51.100.1")));
        Assert.True(list.Allows(IPAddress.IPv6Loopback));
    }

    [Fact]
    public void AllowListAdmitsOnlyItsRanges()
    {
        var list = List(["10.0.0.0/8", "2001:db8::/32"], []);
        Assert.True(list.Allows(IPAddress.Parse("10.9.8.7")));
        Assert.True(list.Allows(IPAddress.Parse("2001:db8::5")));
        Assert.True(list.Allows(IPAddress.Parse("::ffff:10.9.8.7")));
        Assert.False(list.Allows(IPAddress.Parse("192.168.0.1")));
        Assert.False(list.Allows(IPAddress.IPv6Loopback));
    }

    [Fact]
    public void DenyWinsOverAllow()
    {
        var list = List(["10.0.0.0/8"], ["10.1.0.0/16"]);
        Assert.True(list.Allows(IPAddress.Parse("10.2.0.1")));
        Assert.False(list.Allows(IPAddress.Parse("10.1.2.3")));
        Assert.False(list.Allows(IPAddress.Parse("::ffff:10.1.2.3")));
    }

    [Fact]
    public void DenyListAloneRefusesOnlyItsRanges()
    {
        var list = List([], ["127.0.0.0/8", "::1"]);
        Assert.False(list.Allows(IPAddress.Loopback));
        Assert.False(list.Allows(IPAddress.IPv6Loopback));
        Assert.True(list.Allows(IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void RangeFileSkipsCommentsAndBlankLines()
    {
        var ranges = IpAccessList.ParseLines(["# office", "", "  10.0.0.0/8   # vpn", "2001:db8::/32", "   "], "allow.txt");
        Assert.Equal(["10.0.0.0/8", "2001:db8::/32"], ranges.Select(r => r.ToString()));
    }

    [Fact]
    public void RangeFileErrorNamesFileLineAndRange()
    {
        var ex = Assert.Throws<FormatException>(() => IpAccessList.ParseLines(["10.0.0.0/8", "# fine", "10.0.0.0/40"], "deny.txt"));
        Assert.StartsWith("deny.txt:3: ", ex.Message);
        Assert.Contains("10.0.0.0/40", ex.Message);
    }

    [Fact]
    public void RangeFileIsReadFromDisk()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["192.0.2.0/24 # test net", "::1"]);
            Assert.Equal(["192.0.2.0/24", "::1/128"], IpAccessList.ParseFile(path).Select(r => r.ToString()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ARangeFileWithNoReportedSizeIsReadOnlyUpToItsCap()
    {
        // /dev/zero reports no size and never ends: the read must stop at the cap, not at the end.
        var ex = Assert.Throws<FormatException>(() => IpAccessList.ParseFile("/dev/zero"));

        Assert.Equal($"/dev/zero: larger than {IpAccessList.MaxFileBytes / 1024} KiB", ex.Message);
    }
}
