using System.Net;
using CsCheck;
using EchoKit.Server.AccessControl;

namespace EchoKit.Tests.Properties;

[Trait("Kind", "Unit")]
public sealed class AccessListProperties
{
    /// <summary>A valid range: an address with its host bits cleared for a prefix that fits its family.</summary>
    private static readonly Gen<IpNetwork> Network =
        from address in PropertyGens.Address
        from prefix in Gen.Int[0, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128]
        select Masked(address, prefix);

    [Fact]
    public void RangesRoundTripThroughTheirCidrText() =>
        Network.Sample(network =>
        {
            var text = network.ToString();

            Assert.Equal(network, IpNetwork.Parse(text));
        }, iter: 2000);

    [Fact]
    public void ARangeContainsItsOwnNetworkAddress() =>
        Network.Sample(network => Assert.True(network.Contains(network.Network)));

    [Fact]
    public void AnyTextParsesOrFailsWithFormatExceptionOnly() =>
        PropertyGens.AnyText.Sample(text =>
        {
            if (IpNetwork.TryParse(text, out var network, out var error))
            {
                Assert.Equal(network, IpNetwork.Parse(network.ToString()));
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
                Assert.Throws<FormatException>(() => IpNetwork.Parse(text));
            }
        }, iter: 5000);

    [Fact]
    public void AccessListLinesParseOrFailWithFormatExceptionNamingTheLine() =>
        Gen.OneOf(PropertyGens.AnyText, Network.Select(n => n.ToString())).Array[0, 6].Sample(lines =>
        {
            try
            {
                var ranges = IpAccessList.ParseLines(lines, "list.txt");
                Assert.True(ranges.Count <= lines.Length);
            }
            catch (FormatException ex)
            {
                Assert.Matches(@"^list\.txt:\d+: ", ex.Message);
            }
        }, iter: 2000);

    private static IpNetwork Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return IpNetwork.Parse($"{new IPAddress(bytes)}/{prefix}");
    }
}
