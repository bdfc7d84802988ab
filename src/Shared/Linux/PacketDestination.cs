using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EchoKit.Internal.Linux;

/// <summary>
/// The address a received datagram was sent to, as its IP_PKTINFO or IPV6_PKTINFO message said
/// (<see cref="ControlMessages.ReadDestination"/>). A value type holding the address's bytes, so reading it and writing
/// it back as an answer's source (<see cref="ControlMessages.WriteSource"/>) allocates nothing.
/// </summary>
internal readonly struct PacketDestination
{
    private readonly uint _v4;       // the IPv4 address's 4 bytes as they lie in memory (network order)
    private readonly UInt128 _v6;    // the IPv6 address's 16 bytes, likewise

    private PacketDestination(AddressFamily family, uint v4, UInt128 v6, int interfaceIndex, bool isLocalUnicast, bool isLinkLocal = false)
    {
        Family = family;
        _v4 = v4;
        _v6 = v6;
        InterfaceIndex = interfaceIndex;
        IsLocalUnicast = isLocalUnicast;
        IsLinkLocal = isLinkLocal;
    }

    /// <summary><see cref="AddressFamily.Unspecified"/> (the default) when the datagram came without any.</summary>
    public AddressFamily Family { get; }

    /// <summary>True when the datagram came with packet information.</summary>
    public bool IsKnown => Family != AddressFamily.Unspecified;

    /// <summary>The interface the datagram arrived on.</summary>
    public int InterfaceIndex { get; }

    /// <summary>
    /// True when the destination is a unicast address of this host, which an answer may leave from; false for a
    /// multicast or broadcast destination (the kernel then picks the answer's source, as it would without packet
    /// information).
    /// </summary>
    public bool IsLocalUnicast { get; }

    /// <summary>
    /// True for an IPv6 link-local destination (fe80::/10), which names an address only together with its
    /// interface: an answer from it must leave on <see cref="InterfaceIndex"/>.
    /// </summary>
    public bool IsLinkLocal { get; }

    /// <summary>
    /// From <c>struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }</c>. The
    /// destination is <c>ipi_addr</c> (the header's); <c>ipi_spec_dst</c> is the address the kernel would answer from,
    /// which equals it only when the destination is a local unicast address (for a broadcast, subnet broadcasts
    /// included, it is the interface's own address). So no netmask is needed to tell a broadcast.
    /// </summary>
    public static PacketDestination FromInPktinfo(ReadOnlySpan<byte> data)
    {
        var interfaceIndex = BinaryPrimitives.ReadInt32LittleEndian(data);
        var specificDestination = MemoryMarshal.Read<uint>(data[4..]);
        var address = MemoryMarshal.Read<uint>(data[8..]);
        var first = data[8];
        // Below 224: not multicast (224/4), reserved (240/4) or the limited broadcast (255.255.255.255).
        var unicast = address == specificDestination && address != 0 && first < 224;
        return new PacketDestination(AddressFamily.InterNetwork, address, 0, interfaceIndex, unicast);
    }

    /// <summary>
    /// From <c>struct in6_pktinfo { struct in6_addr ipi6_addr; int ipi6_ifindex; }</c>. An IPv4 datagram on a
    /// dual-stack socket brings one too, its destination IPv4-mapped: that says nothing about broadcast, so it is
    /// never used as a source (its IP_PKTINFO, which does say, replaces it).
    /// </summary>
    public static PacketDestination FromIn6Pktinfo(ReadOnlySpan<byte> data)
    {
        var bytes = data[..16];
        var interfaceIndex = BinaryPrimitives.ReadInt32LittleEndian(data[16..]);
        if (IsV4Mapped(bytes))
        {
            return new PacketDestination(AddressFamily.InterNetwork, MemoryMarshal.Read<uint>(bytes[12..]), 0, interfaceIndex, isLocalUnicast: false);
        }
        var value = MemoryMarshal.Read<UInt128>(bytes);
        var unicast = value != UInt128.Zero && bytes[0] != 0xff; // ff00::/8 multicast; IPv6 has no broadcast
        var linkLocal = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80; // fe80::/10
        return new PacketDestination(AddressFamily.InterNetworkV6, 0, value, interfaceIndex, unicast, linkLocal);
    }

    /// <summary>Writes the IPv4 address's 4 bytes (network order).</summary>
    public void WriteV4(Span<byte> target) => MemoryMarshal.Write(target, in _v4);

    /// <summary>Writes the IPv6 address's 16 bytes (network order).</summary>
    public void WriteV6(Span<byte> target) => MemoryMarshal.Write(target, in _v6);

    /// <summary>The destination as an address (a link-local one scoped to its interface); allocates, for reports.</summary>
    public IPAddress? ToAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        switch (Family)
        {
            case AddressFamily.InterNetwork:
                WriteV4(bytes);
                return new IPAddress(bytes[..4]);
            case AddressFamily.InterNetworkV6:
                WriteV6(bytes);
                return new IPAddress(bytes, IsLinkLocal ? InterfaceIndex : 0);
            default:
                return null;
        }
    }

    private static bool IsV4Mapped(ReadOnlySpan<byte> address) =>
        MemoryMarshal.Read<ulong>(address) == 0 && BinaryPrimitives.ReadUInt32BigEndian(address[8..]) == 0x0000_ffff;
}
