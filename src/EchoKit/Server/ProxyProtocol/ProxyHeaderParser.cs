using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Server.ProxyProtocol;

/// <summary>
/// Parses a PROXY protocol header (HAProxy's spec, versions 1 and 2) from the first bytes of a connection. A pure
/// function over bytes: it reads nothing from the network, so every case is testable without sockets.
/// Feed it everything received so far; it answers Complete (with the header's length), NeedMoreData, or Invalid as
/// early as the bytes allow, so a client that sends no header at all is refused at its first byte.
/// </summary>
internal static class ProxyHeaderParser
{
    /// <summary>The longest v1 header, CRLF included (the spec's bound: "PROXY TCP6" with two full IPv6 addresses).</summary>
    public const int MaxV1Length = 107;

    /// <summary>The fixed part of a v2 header: signature, version and command, family, length.</summary>
    public const int V2FixedLength = 16;

    /// <summary>The default bound on a whole v2 header: 16 fixed bytes and 520 of addresses and TLVs.</summary>
    public const int DefaultMaxV2Length = 536;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// Parses the header at the start of <paramref name="data"/>. Bytes after the header (the client's own data) are
    /// ignored. <paramref name="maxV2Length"/> bounds a whole v2 header (fixed part included); a longer one is Invalid.
    /// </summary>
    public static ProxyParseResult Parse(ReadOnlySpan<byte> data, int maxV2Length = DefaultMaxV2Length)
    {
        if (data.IsEmpty)
        {
            return ProxyParseResult.NeedMoreData;
        }
        if (data[0] == V1Prefix[0])
        {
            return ParseV1(data);
        }
        if (data[0] == V2Signature[0])
        {
            return ParseV2(data, maxV2Length);
        }
        return ProxyParseResult.Invalid("no PROXY header");
    }

    private static ProxyParseResult ParseV1(ReadOnlySpan<byte> data)
    {
        var prefixLength = Math.Min(data.Length, V1Prefix.Length);
        if (!data[..prefixLength].SequenceEqual(V1Prefix[..prefixLength]))
        {
            return ProxyParseResult.Invalid("no PROXY header");
        }
        var window = data[..Math.Min(data.Length, MaxV1Length)];
        var end = window.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (window.IndexOf((byte)'\r') is var cr && cr >= 0 && cr < window.Length - 1)
            {
                return ProxyParseResult.Invalid("v1 header: CR not followed by LF");
            }
            return data.Length >= MaxV1Length
                ? ProxyParseResult.Invalid("v1 header longer than 107 bytes")
                : ProxyParseResult.NeedMoreData;
        }
        if (end == 0 || window[end - 1] != '\r')
        {
            return ProxyParseResult.Invalid("v1 header: LF without CR");
        }
        var line = window[..(end - 1)];
        if (line.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
        {
            return ProxyParseResult.Invalid("v1 header: not printable ASCII");
        }
        var length = end + 1;

        line = line[V1Prefix.Length..];
        var protocol = NextToken(ref line);
        if (protocol.SequenceEqual("UNKNOWN"u8))
        {
            // The spec: a receiver must ignore whatever follows UNKNOWN and use the socket's addresses.
            return ProxyParseResult.Complete(new ProxyHeader(1, ProxyCommand.Proxy, null, null), length);
        }
        AddressFamily family;
        if (protocol.SequenceEqual("TCP4"u8))
        {
            family = AddressFamily.InterNetwork;
        }
        else if (protocol.SequenceEqual("TCP6"u8))
        {
            family = AddressFamily.InterNetworkV6;
        }
        else
        {
            return ProxyParseResult.Invalid("v1 header: protocol is not TCP4, TCP6 or UNKNOWN");
        }
        var sourceText = NextToken(ref line);
        var destinationText = NextToken(ref line);
        var sourcePortText = NextToken(ref line);
        var destinationPortText = NextToken(ref line);
        if (sourcePortText.IsEmpty || destinationPortText.IsEmpty || !line.IsEmpty)
        {
            return ProxyParseResult.Invalid("v1 header: expected PROXY TCPn SRC DST SPORT DPORT, single spaces");
        }
        if (!TryParseV1Address(sourceText, family, out var source) || !TryParseV1Address(destinationText, family, out var destination))
        {
            return ProxyParseResult.Invalid(family == AddressFamily.InterNetwork
                ? "v1 header: bad IPv4 address"
                : "v1 header: bad IPv6 address");
        }
        if (!TryParsePort(sourcePortText, out var sourcePort) || !TryParsePort(destinationPortText, out var destinationPort))
        {
            return ProxyParseResult.Invalid("v1 header: bad port");
        }
        return ProxyParseResult.Complete(
            new ProxyHeader(1, ProxyCommand.Proxy, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort)),
            length);
    }

    private static ProxyParseResult ParseV2(ReadOnlySpan<byte> data, int maxV2Length)
    {
        var signatureLength = Math.Min(data.Length, V2Signature.Length);
        if (!data[..signatureLength].SequenceEqual(V2Signature[..signatureLength]))
        {
            return ProxyParseResult.Invalid("no PROXY header");
        }
        if (data.Length < V2FixedLength)
        {
            return ProxyParseResult.NeedMoreData;
        }
        var versionCommand = data[12];
        if (versionCommand >> 4 != 2)
        {
            return ProxyParseResult.Invalid("v2 header: unsupported version");
        }
        if ((versionCommand & 0x0F) > 1)
        {
            return ProxyParseResult.Invalid("v2 header: unknown command");
        }
        var command = (versionCommand & 0x0F) == 0 ? ProxyCommand.Local : ProxyCommand.Proxy;
        var familyTransport = data[13];
        var addressLength = BinaryPrimitives.ReadUInt16BigEndian(data[14..16]);
        var total = V2FixedLength + addressLength;
        if (total > maxV2Length)
        {
            return ProxyParseResult.Invalid($"v2 header longer than {maxV2Length} bytes");
        }
        if (data.Length < total)
        {
            return ProxyParseResult.NeedMoreData;
        }
        var block = data[V2FixedLength..total];
        if (command == ProxyCommand.Local)
        {
            // The spec: a receiver must accept LOCAL, skip the address block and keep the socket's addresses.
            return ProxyParseResult.Complete(new ProxyHeader(2, ProxyCommand.Local, null, null), total);
        }

        var transport = familyTransport & 0x0F;
        if (transport > 2)
        {
            return ProxyParseResult.Invalid("v2 header: unknown transport");
        }
        int addressesLength;
        IPEndPoint? source = null;
        IPEndPoint? destination = null;
        switch (familyTransport >> 4)
        {
            case 0: // AF_UNSPEC: the proxy does not know; keep the socket's addresses
                addressesLength = 0;
                break;
            case 1: // AF_INET: 4 + 4 + 2 + 2
                addressesLength = 12;
                if (block.Length < addressesLength)
                {
                    return ProxyParseResult.Invalid("v2 header: address block too short for IPv4");
                }
                source = new IPEndPoint(new IPAddress(block[..4]), BinaryPrimitives.ReadUInt16BigEndian(block[8..10]));
                destination = new IPEndPoint(new IPAddress(block[4..8]), BinaryPrimitives.ReadUInt16BigEndian(block[10..12]));
                break;
            case 2: // AF_INET6: 16 + 16 + 2 + 2
                addressesLength = 36;
                if (block.Length < addressesLength)
                {
                    return ProxyParseResult.Invalid("v2 header: address block too short for IPv6");
                }
                source = new IPEndPoint(new IPAddress(block[..16]), BinaryPrimitives.ReadUInt16BigEndian(block[32..34]));
                destination = new IPEndPoint(new IPAddress(block[16..32]), BinaryPrimitives.ReadUInt16BigEndian(block[34..36]));
                break;
            case 3: // AF_UNIX: two 108-byte paths; no IP address to report, so the socket's stands
                addressesLength = 216;
                if (block.Length < addressesLength)
                {
                    return ProxyParseResult.Invalid("v2 header: address block too short for UNIX");
                }
                break;
            default:
                return ProxyParseResult.Invalid("v2 header: unknown address family");
        }

        // TLVs follow the addresses; none is needed here, but their framing must hold or the header is corrupt.
        var tlvs = block[addressesLength..];
        while (!tlvs.IsEmpty)
        {
            if (tlvs.Length < 3)
            {
                return ProxyParseResult.Invalid("v2 header: truncated TLV");
            }
            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(tlvs[1..3]);
            if (tlvs.Length < 3 + valueLength)
            {
                return ProxyParseResult.Invalid("v2 header: TLV longer than the header");
            }
            tlvs = tlvs[(3 + valueLength)..];
        }
        return ProxyParseResult.Complete(new ProxyHeader(2, ProxyCommand.Proxy, source, destination), total);
    }

    /// <summary>The text up to the next single space; an empty token (two spaces in a row) makes the caller fail.</summary>
    private static ReadOnlySpan<byte> NextToken(ref ReadOnlySpan<byte> line)
    {
        var space = line.IndexOf((byte)' ');
        if (space < 0)
        {
            var last = line;
            line = [];
            return last;
        }
        var token = line[..space];
        line = line[(space + 1)..];
        if (line.IsEmpty)
        {
            // A trailing space: leave something non-empty so the caller sees extra text and fails.
            line = " "u8;
        }
        return token;
    }

    private static bool TryParseV1Address(ReadOnlySpan<byte> text, AddressFamily family, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.IsEmpty || text.Length > 45)
        {
            return false;
        }
        Span<char> chars = stackalloc char[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var c = (char)text[i];
            // Digits, dots for IPv4; hex digits, colons (and dots for an embedded IPv4) for IPv6; no zone ids.
            var ok = family == AddressFamily.InterNetwork
                ? char.IsAsciiDigit(c) || c == '.'
                : char.IsAsciiHexDigit(c) || c is ':' or '.';
            if (!ok)
            {
                return false;
            }
            chars[i] = c;
        }
        if (family == AddressFamily.InterNetwork && !IsDottedQuad(chars))
        {
            return false;
        }
        return IPAddress.TryParse(chars, out address) && address.AddressFamily == family;
    }

    // IPAddress.TryParse also takes "10.1" or "167772161"; the spec's TCP4 form is four decimal octets.
    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (part.Length is 0 or > 3 || !int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value > 255)
            {
                return false;
            }
            parts++;
        }
        return parts == 4;
    }

    private static bool TryParsePort(ReadOnlySpan<byte> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > 5 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            port = port * 10 + (b - '0');
        }
        return port <= 65535;
    }
}
