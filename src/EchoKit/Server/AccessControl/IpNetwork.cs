using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Server.AccessControl;

/// <summary>
/// An IP address range in CIDR form: <c>10.0.0.0/8</c>, <c>2001:db8::/32</c>, or a single address
/// (<c>192.0.2.7</c> means <c>/32</c>, <c>::1</c> means <c>/128</c>). Matching costs no allocation.
/// </summary>
public readonly struct IpNetwork : IEquatable<IpNetwork>
{
    private readonly UInt128 _prefix;
    private readonly UInt128 _mask;

    private IpNetwork(AddressFamily family, UInt128 prefix, int prefixLength)
    {
        Family = family;
        PrefixLength = prefixLength;
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        _mask = prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (bits - prefixLength);
        if (family == AddressFamily.InterNetwork)
        {
            _mask &= uint.MaxValue;
        }
        _prefix = prefix & _mask;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily Family { get; }

    /// <summary>Number of leading bits that must match: 0-32 for IPv4, 0-128 for IPv6.</summary>
    public int PrefixLength { get; }

    /// <summary>The first address of the range.</summary>
    public IPAddress Network
    {
        get
        {
            Span<byte> bytes = stackalloc byte[16];
            if (Family == AddressFamily.InterNetwork)
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_prefix);
                return new IPAddress(bytes[..4]);
            }
            BinaryPrimitives.WriteUInt128BigEndian(bytes, _prefix);
            return new IPAddress(bytes);
        }
    }

    /// <summary>
    /// True when <paramref name="address"/> lies in the range. An IPv4-mapped IPv6 address (<c>::ffff:10.1.2.3</c>,
    /// what a dual-stack socket reports for an IPv4 client) is matched as the IPv4 address it carries.
    /// </summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return TryGetBits(address, out var family, out var bits) && family == Family && (bits & _mask) == _prefix;
    }

    /// <summary>
    /// True when the address given as 128 bits (IPv4 as IPv4-mapped IPv6, <c>::ffff:a.b.c.d</c>) lies in the range;
    /// the allocation-free form the UDP receive loops use.
    /// </summary>
    internal bool Contains(UInt128 mappedBits)
    {
        if (Family == AddressFamily.InterNetwork)
        {
            const ulong mappedPrefix = 0x0000_FFFF_0000_0000UL;
            return (ulong)(mappedBits >> 64) == 0 && ((ulong)mappedBits & 0xFFFF_FFFF_0000_0000UL) == mappedPrefix
                && (((UInt128)(uint)mappedBits) & _mask) == _prefix;
        }
        return (mappedBits & _mask) == _prefix;
    }

    /// <summary>Parses <c>ADDRESS/PREFIX</c> or a bare address; throws <see cref="FormatException"/> naming the text.</summary>
    public static IpNetwork Parse(string text) =>
        TryParse(text, out var network, out var error) ? network : throw new FormatException(error);

    /// <summary>
    /// Parses <c>ADDRESS/PREFIX</c> or a bare address. Bits set after the prefix are refused
    /// (<c>10.1.2.3/8</c> is most likely a typo for <c>10.0.0.0/8</c> or <c>10.1.2.3/32</c>), as are zone ids.
    /// On failure <paramref name="error"/> names the text and says why, in one line.
    /// </summary>
    public static bool TryParse(string? text, out IpNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "empty address range: expected ADDRESS/PREFIX, e.g. 10.0.0.0/8 or 2001:db8::/32";
            return false;
        }
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (addressText.Contains('%') || !IPAddress.TryParse(addressText, out var address) || !IsStrictAddress(addressText, address))
        {
            error = $"invalid address range '{text}': '{addressText}' is not an IPv4 or IPv6 address";
            return false;
        }
        if (EndpointParser.MappedAdvice(address, "ranges") is { } advice)
        {
            error = $"invalid address range '{text}': {advice} (they match mapped addresses anyway)";
            return false;
        }
        var maxBits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefixLength = maxBits;
        if (slash >= 0)
        {
            var prefixText = text[(slash + 1)..];
            if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefixLength) || prefixLength > maxBits)
            {
                error = $"invalid address range '{text}': prefix length must be a number from 0 to {maxBits}";
                return false;
            }
        }
        TryGetBits(address, out var family, out var bits);
        network = new IpNetwork(family, bits, prefixLength);
        if (network._prefix != bits)
        {
            error = $"invalid address range '{text}': bits are set after the /{prefixLength} prefix (did you mean {network}?)";
            network = default;
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>The range in CIDR form, e.g. <c>10.0.0.0/8</c>.</summary>
    public override string ToString() => $"{Network}/{PrefixLength}";

    /// <inheritdoc />
    public bool Equals(IpNetwork other) => Family == other.Family && PrefixLength == other.PrefixLength && _prefix == other._prefix;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is IpNetwork other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Family, PrefixLength, _prefix);

    /// <summary>Equality of family, prefix and length.</summary>
    public static bool operator ==(IpNetwork left, IpNetwork right) => left.Equals(right);

    /// <summary>Inequality of family, prefix or length.</summary>
    public static bool operator !=(IpNetwork left, IpNetwork right) => !left.Equals(right);

    private static bool TryGetBits(IPAddress address, out AddressFamily family, out UInt128 bits)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            family = default;
            bits = default;
            return false;
        }
        if (written == 4)
        {
            family = AddressFamily.InterNetwork;
            bits = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            return true;
        }
        // ::ffff:a.b.c.d: bytes 0-9 zero, 10-11 0xff.
        if (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xff && bytes[11] == 0xff)
        {
            family = AddressFamily.InterNetwork;
            bits = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]);
            return true;
        }
        family = AddressFamily.InterNetworkV6;
        bits = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    // IPAddress.TryParse takes "10" as 0.0.0.10 and "10.1" as 10.0.0.1; an access list must not guess.
    private static bool IsStrictAddress(string text, IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return true;
        }
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }
}
