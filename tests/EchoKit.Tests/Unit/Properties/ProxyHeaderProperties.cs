using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using EchoKit.Server.ProxyProtocol;
using EchoKit.Tests.Production;

namespace EchoKit.Tests.Properties;

[Trait("Kind", "Unit")]
public sealed class ProxyHeaderProperties
{
    private static readonly Gen<(IPAddress Source, IPAddress Destination, int SourcePort, int DestinationPort)> Addresses =
        Gen.OneOf(
            Gen.Select(PropertyGens.IPv4, PropertyGens.IPv4, PropertyGens.Port, PropertyGens.Port),
            Gen.Select(PropertyGens.IPv6, PropertyGens.IPv6, PropertyGens.Port, PropertyGens.Port));

    private static byte[] V1((IPAddress Source, IPAddress Destination, int SourcePort, int DestinationPort) a) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"PROXY {(a.Source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {a.Source} {a.Destination} {a.SourcePort} {a.DestinationPort}\r\n"));

    private static byte[] V2((IPAddress Source, IPAddress Destination, int SourcePort, int DestinationPort) a, byte[] tlvs) =>
        ProxyHeaderParserTests.V2Inet(a.Source.ToString(), a.SourcePort, a.Destination.ToString(), a.DestinationPort, tlvs);

    /// <summary>Well-formed TLVs: type, 16-bit length, value.</summary>
    private static readonly Gen<byte[]> Tlvs = Gen.Select(Gen.Byte, Gen.Byte.Array[0, 40])
        .Select((type, value) => (byte[])[type, 0, (byte)value.Length, .. value]).Array[0, 4]
        .Select(list => list.SelectMany(b => b).ToArray());

    [Fact]
    public void V1HeadersRoundTripAndTheDataAfterThemIsUntouched() =>
        Gen.Select(Addresses, Gen.Byte.Array[0, 20]).Sample((a, after) =>
        {
            var header = V1(a);

            var result = ProxyHeaderParser.Parse([.. header, .. after]);

            Assert.Equal(ProxyParseStatus.Complete, result.Status);
            Assert.Equal(header.Length, result.Length);
            Assert.Equal(new ProxyHeader(1, ProxyCommand.Proxy, new IPEndPoint(a.Source, a.SourcePort), new IPEndPoint(a.Destination, a.DestinationPort)), result.Header);
        }, iter: 2000);

    [Fact]
    public void V2HeadersWithTlvsRoundTrip() =>
        Gen.Select(Addresses, Tlvs, Gen.Byte.Array[0, 20]).Sample((a, tlvs, after) =>
        {
            var header = V2(a, tlvs);

            var result = ProxyHeaderParser.Parse([.. header, .. after]);

            Assert.Equal(ProxyParseStatus.Complete, result.Status);
            Assert.Equal(header.Length, result.Length);
            Assert.Equal(new IPEndPoint(a.Source, a.SourcePort), result.Header!.Source);
            Assert.Equal(new IPEndPoint(a.Destination, a.DestinationPort), result.Header.Destination);
        }, iter: 2000);

    [Fact]
    public void EveryProperPrefixOfAValidHeaderNeedsMoreData() =>
        Gen.Select(Addresses, Tlvs, Gen.Bool).Sample((a, tlvs, v2) =>
        {
            var header = v2 ? V2(a, tlvs) : V1(a);
            for (var length = 1; length < header.Length; length++)
            {
                Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse(header.AsSpan(0, length)).Status);
            }
        }, iter: 300);

    [Fact]
    public void ArbitraryBytesNeverThrowAndACompleteHeaderFitsInThem() =>
        Gen.OneOf(
            Gen.Byte.Array[0, 300],
            Gen.Byte.Array[0, 300].Select(tail => (byte[])[.. "PROXY "u8, .. tail]),
            Gen.Byte.Array[0, 300].Select(tail => (byte[])[0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, .. tail]),
            Gen.Select(Addresses, Tlvs, Gen.Int[0, 200], Gen.Byte).Select((a, tlvs, at, value) =>
            {
                var header = V2(a, tlvs);
                header[at % header.Length] = value; // one corrupted byte
                return header;
            }))
        .Sample(data =>
        {
            var result = ProxyHeaderParser.Parse(data);
            switch (result.Status)
            {
                case ProxyParseStatus.Complete:
                    Assert.InRange(result.Length, 1, data.Length);
                    Assert.NotNull(result.Header);
                    break;
                case ProxyParseStatus.Invalid:
                    Assert.False(string.IsNullOrWhiteSpace(result.Error));
                    break;
            }
        }, iter: 10_000);
}
