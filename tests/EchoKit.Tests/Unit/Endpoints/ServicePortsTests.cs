using EchoKit.Endpoints;

namespace EchoKit.Tests.Endpoints;

[Trait("Kind", "Unit")]
public sealed class ServicePortsTests
{
    [Fact]
    public void ParsesServicesFileLinesWithAliasesAndComments()
    {
        var map = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

        ServicePorts.Parse("imap2\t\t143/tcp\t\timap\t\t# Interim Mail Access P 2 and 4", map);
        ServicePorts.Parse("# a comment line", map);
        ServicePorts.Parse("echo\t\t4/ddp\t\t\t# AppleTalk Echo Protocol", map);
        ServicePorts.Parse("echo\t\t7/tcp", map);
        ServicePorts.Parse("broken\tnotaport/tcp", map);

        Assert.Equal(143, map["imap2"]);
        Assert.Equal(143, map["imap"]);
        Assert.Equal(7, map["echo"]);
        Assert.False(map.ContainsKey("broken"));
        Assert.False(map.ContainsKey("#"));
    }

    [Fact]
    public void MissingServicesFileGivesAnEmptyMapAndTheBuiltInTableAnswers()
    {
        var map = ServicePorts.Load("/nonexistent/services");

        Assert.Empty(map);
        Assert.Equal(21, ServicePorts.BuiltIn["ftp"]);
        Assert.Equal(20, ServicePorts.BuiltIn["ftp-data"]);
    }
}
