using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Server.Internal;

/// <summary>
/// A datagram's source address as a 128-bit value (IPv4 as IPv4-mapped IPv6, so a dual-stack socket and an IPv4
/// socket key one host the same way), read straight from the native socket address without allocating.
/// </summary>
internal readonly record struct UdpSourceKey(ulong High, ulong Low)
{
    // Native sockaddr layouts on Linux, BSD and Windows agree on these offsets: family (2 bytes, or length and
    // family on BSD), port (2 bytes, network order), then sin_addr at 4, or sin6_flowinfo at 4 and sin6_addr at 8.
    private const int PortOffset = 2;
    private const int IPv4Offset = 4;
    private const int IPv6Offset = 8;
    private const ulong IPv4MappedPrefix = 0x0000_FFFF_0000_0000UL;

    /// <summary>The key of the address in <paramref name="address"/> (an IPv4 or IPv6 socket address).</summary>
    public static UdpSourceKey From(SocketAddress address)
    {
        var bytes = address.Buffer.Span;
        if (address.Family == AddressFamily.InterNetwork)
        {
            return new UdpSourceKey(0, IPv4MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes[IPv4Offset..]));
        }
        return new UdpSourceKey(
            BinaryPrimitives.ReadUInt64BigEndian(bytes[IPv6Offset..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[(IPv6Offset + 8)..]));
    }

    /// <summary>The key of <paramref name="address"/>; for tests and tools, it allocates nothing either.</summary>
    public static UdpSourceKey From(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.MapToIPv6().TryWriteBytes(bytes, out _);
        return new UdpSourceKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>The address as one 128-bit number (IPv4 as IPv4-mapped IPv6), as access lists compare it.</summary>
    public UInt128 Bits => new(High, Low);

    /// <summary>The source port in <paramref name="address"/>.</summary>
    public static int PortOf(SocketAddress address) => BinaryPrimitives.ReadUInt16BigEndian(address.Buffer.Span[PortOffset..]);

    /// <summary>True for 127.0.0.0/8 (also IPv4-mapped) and ::1: sources that can only be this machine.</summary>
    public bool IsLoopback =>
        (High == 0 && Low == 1) ||
        (High == 0 && (Low & 0xFFFF_FFFF_0000_0000UL) == IPv4MappedPrefix && ((Low >> 24) & 0xFF) == 127);
}
