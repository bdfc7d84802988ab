using System.Buffers.Binary;
using System.Net;
using System.Text;
using EchoKit.Server.ProxyProtocol;

namespace EchoKit.Tests.Production;

[Trait("Kind", "Unit")]
public sealed class ProxyHeaderParserTests
{
    private static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>A v2 header: version 2, the command, family/transport, then the block (addresses and TLVs).</summary>
    internal static byte[] V2(int command, int familyTransport, byte[] block, int? declaredLength = null)
    {
        var header = new byte[16 + block.Length];
        Signature.CopyTo(header, 0);
        header[12] = (byte)(0x20 | command);
        header[13] = (byte)familyTransport;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(declaredLength ?? block.Length));
        block.CopyTo(header, 16);
        return header;
    }

    internal static byte[] V2Inet(string source, int sourcePort, string destination, int destinationPort, byte[]? tlvs = null)
    {
        var s = IPAddress.Parse(source).GetAddressBytes();
        var d = IPAddress.Parse(destination).GetAddressBytes();
        var block = new byte[s.Length * 2 + 4 + (tlvs?.Length ?? 0)];
        s.CopyTo(block, 0);
        d.CopyTo(block, s.Length);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(s.Length * 2), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(s.Length * 2 + 2), (ushort)destinationPort);
        tlvs?.CopyTo(block, s.Length * 2 + 4);
        return V2(1, s.Length == 4 ? 0x11 : 0x21, block);
    }

    private static ProxyHeader Complete(byte[] data, int expectedLength)
    {
        var result = ProxyHeaderParser.Parse(data);
        Assert.True(result.Status == ProxyParseStatus.Complete, result.ToString());
        Assert.Equal(expectedLength, result.Length);
        return result.Header!;
    }

    private static void Invalid(byte[] data, string reason, int maxV2Length = ProxyHeaderParser.DefaultMaxV2Length)
    {
        var result = ProxyHeaderParser.Parse(data, maxV2Length);
        Assert.True(result.Status == ProxyParseStatus.Invalid, result.ToString());
        Assert.Contains(reason, result.Error);
    }

    [Fact]
    public void V1Tcp4GivesClientAndDestination()
    {
        var line = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n";
        var header = Complete(Ascii(line + "hello"), line.Length);
        Assert.Equal(1, header.Version);
        Assert.Equal(ProxyCommand.Proxy, header.Command);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 443), header.Destination);
    }

    [Fact]
    public void V1Tcp6GivesClientAndDestination()
    {
        var line = "PROXY TCP6 2001:db8::1 2001:db8::ff 65535 0\r\n";
        var header = Complete(Ascii(line), line.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 65535), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::ff"), 0), header.Destination);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")]
    public void V1UnknownKeepsSocketAddresses(string line)
    {
        var header = Complete(Ascii(line + "data"), line.Length);
        Assert.Null(header.Source);
        Assert.Null(header.Destination);
    }

    [Fact]
    public void V1AtTheLengthLimitIsAccepted()
    {
        var line = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        Assert.Equal(104, line.Length);
        Complete(Ascii(line), line.Length);
        var unknown = "PROXY UNKNOWN " + new string('x', 107 - 16) + "\r\n";
        Assert.Equal(107, unknown.Length);
        Complete(Ascii(unknown), 107);
    }

    [Fact]
    public void V1IsIncompleteUntilItsCrLf()
    {
        var line = Ascii("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");
        for (var length = 1; length < line.Length; length++)
        {
            Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse(line.AsSpan(0, length)).Status);
        }
        Assert.Equal(ProxyParseStatus.Complete, ProxyHeaderParser.Parse(line).Status);
        Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse([]).Status);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n", "expected PROXY TCPn")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443 extra\r\n", "expected PROXY TCPn")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443 \r\n", "expected PROXY TCPn")]
    [InlineData("PROXY TCP4 192.0.2.10  198.51.100.1 56324 443\r\n", "")]
    [InlineData("PROXY TCP4 2001:db8::1 198.51.100.1 56324 443\r\n", "bad IPv4 address")]
    [InlineData("PROXY TCP4 192.0.2 198.51.100.1 56324 443\r\n", "bad IPv4 address")]
    [InlineData("PROXY TCP4 192.0.2.256 198.51.100.1 56324 443\r\n", "bad IPv4 address")]
    [InlineData("PROXY TCP4 3221225994 198.51.100.1 56324 443\r\n", "bad IPv4 address")]
    [InlineData("PROXY TCP6 192.0.2.10 2001:db8::1 56324 443\r\n", "bad IPv6 address")]
    [InlineData("PROXY TCP6 fe80::1%eth0 2001:db8::1 56324 443\r\n", "bad IPv6 address")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n", "bad port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 -1 443\r\n", "bad port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 0443 443\r\n", "bad port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 443 x\r\n", "bad port")]
    [InlineData("PROXY UDP4 192.0.2.10 198.51.100.1 1 2\r\n", "protocol is not TCP4, TCP6 or UNKNOWN")]
    [InlineData("PROXY tcp4 192.0.2.10 198.51.100.1 1 2\r\n", "protocol is not")]
    [InlineData("PROXY \r\n", "protocol is not")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 1 2\n", "LF without CR")]
    [InlineData("PROXY TCP4 192.0.2.10\r198.51.100.1 1 2", "CR not followed by LF")]
    [InlineData("PROXY TCP4 192.0.2.10\r198.51.100.1 1 2\r\n", "not printable")]
    [InlineData("PROXY TCP4 192.0.2.10\t198.51.100.1 1 2\r\n", "not printable")]
    [InlineData("PROXY\r\n", "no PROXY header")]
    [InlineData("PROXZ TCP4", "no PROXY header")]
    [InlineData("GET / HTTP/1.1\r\n", "no PROXY header")]
    [InlineData("hello", "no PROXY header")]
    [InlineData("P", "")]
    public void V1MalformedHeadersAreInvalid(string text, string reason)
    {
        if (text == "P")
        {
            // A lone 'P' could still become a header: not invalid yet.
            Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse(Ascii(text)).Status);
            return;
        }
        Invalid(Ascii(text), reason);
    }

    [Fact]
    public void V1WithoutCrLfWithin107BytesIsOversized()
    {
        var text = "PROXY UNKNOWN " + new string('x', 200);
        Invalid(Ascii(text), "longer than 107 bytes");
        // One byte short of the limit it may still end: keep reading.
        Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse(Ascii(text[..106])).Status);
        Invalid(Ascii(text[..107]), "longer than 107 bytes");
    }

    [Fact]
    public void V2ProxyIpv4GivesClientAndDestination()
    {
        var data = V2Inet("203.0.113.7", 4242, "10.0.0.1", 7);
        var header = Complete([.. data, .. "payload"u8.ToArray()], 28);
        Assert.Equal(2, header.Version);
        Assert.Equal(ProxyCommand.Proxy, header.Command);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 4242), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 7), header.Destination);
    }

    [Fact]
    public void V2ProxyIpv6GivesClientAndDestination()
    {
        var data = V2Inet("2001:db8::1", 1234, "2001:db8::2", 50007);
        var header = Complete(data, 16 + 36);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 1234), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 50007), header.Destination);
    }

    [Fact]
    public void V2TlvsAreSkipped()
    {
        // PP2_TYPE_AUTHORITY "example.com", PP2_TYPE_NOOP empty, a vendor TLV (0xEA, AWS VPC endpoint id).
        byte[] tlvs = [0x02, 0x00, 0x0B, .. "example.com"u8.ToArray(), 0x04, 0x00, 0x00, 0xEA, 0x00, 0x04, 0x01, (byte)'v', (byte)'p', (byte)'c'];
        var data = V2Inet("198.51.100.9", 80, "10.0.0.1", 7, tlvs);
        var header = Complete([.. data, 0xFF], data.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 80), header.Source);
    }

    [Fact]
    public void V2LocalKeepsSocketAddressesWhateverTheBlock()
    {
        var local = V2(0, 0x00, []);
        var header = Complete(local, 16);
        Assert.Equal(ProxyCommand.Local, header.Command);
        Assert.Null(header.Source);
        // LOCAL with an (ignored) IPv4 block: skipped whole.
        var withBlock = V2(0, 0x11, new byte[12]);
        Assert.Equal(ProxyCommand.Local, Complete(withBlock, 28).Command);
    }

    [Fact]
    public void V2UnspecAndUnixFamiliesKeepSocketAddresses()
    {
        Assert.Null(Complete(V2(1, 0x00, []), 16).Source);
        Assert.Null(Complete(V2(1, 0x31, new byte[216]), 232).Source);
    }

    [Fact]
    public void V2IsIncompleteUntilItsDeclaredLength()
    {
        var data = V2Inet("2001:db8::1", 1234, "2001:db8::2", 50007);
        for (var length = 1; length < data.Length; length++)
        {
            Assert.Equal(ProxyParseStatus.NeedMoreData, ProxyHeaderParser.Parse(data.AsSpan(0, length)).Status);
        }
    }

    [Fact]
    public void V2LongerThanTheBoundIsRejectedFromItsFixedPart()
    {
        // Only the 16 fixed bytes are needed to refuse a 1000-byte header: no need to wait for the rest.
        var fixedPart = V2(1, 0x11, [], declaredLength: 1000);
        Invalid(fixedPart, "longer than 536 bytes");
        var atBound = V2(1, 0x11, [.. new byte[12], 0x04, 0x01, 0xF9, .. new byte[0x1F9]]);
        Assert.Equal(536, atBound.Length);
        Complete(atBound, 536);
        Invalid(atBound, "longer than 300 bytes", maxV2Length: 300);
    }

    [Theory]
    [InlineData(0x12, "unknown command")]
    [InlineData(0x22 - 0x20, "unknown command")]
    public void V2UnknownCommandIsInvalid(int command, string reason)
    {
        Invalid(V2(command & 0x0F, 0x11, new byte[12]), reason);
    }

    [Fact]
    public void V2MalformedHeadersAreInvalid()
    {
        var good = V2Inet("192.0.2.1", 1, "192.0.2.2", 2);

        var version1 = (byte[])good.Clone();
        version1[12] = 0x11;
        Invalid(version1, "unsupported version");

        var badFamily = (byte[])good.Clone();
        badFamily[13] = 0x41;
        Invalid(badFamily, "unknown address family");

        var badTransport = (byte[])good.Clone();
        badTransport[13] = 0x13;
        Invalid(badTransport, "unknown transport");

        Invalid(V2(1, 0x11, new byte[8]), "too short for IPv4");
        Invalid(V2(1, 0x21, new byte[12]), "too short for IPv6");
        Invalid(V2(1, 0x31, new byte[36]), "too short for UNIX");
        Invalid(V2(1, 0x11, [.. new byte[12], 0x01, 0x00]), "truncated TLV");
        Invalid(V2(1, 0x11, [.. new byte[12], 0x01, 0x00, 0x05, 0x00]), "TLV longer than the header");

        var badSignature = (byte[])good.Clone();
        badSignature[7] = (byte)'X';
        Invalid(badSignature, "no PROXY header");
        Invalid(badSignature[..8], "no PROXY header");
        Invalid("\r\nGET"u8.ToArray(), "no PROXY header");
    }

    [Fact]
    public void OnlyTheFirstByteIsNeededToRefuseAClientWithoutHeader()
    {
        Invalid("G"u8.ToArray(), "no PROXY header");
        Invalid([0x16, 0x03, 0x01], "no PROXY header"); // a TLS ClientHello sent straight to a PROXY listener
        Invalid([0x00], "no PROXY header");
    }
}
