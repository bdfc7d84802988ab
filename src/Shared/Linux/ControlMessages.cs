using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Internal.Linux;

/// <summary>
/// Ancillary data (<c>struct cmsghdr</c>) on 64-bit Linux: the CMSG_ALIGN/CMSG_LEN/CMSG_SPACE arithmetic, a walk over
/// what the kernel wrote (<see cref="Reader"/>), and the packet information that lets a datagram socket bound to a
/// wildcard address answer from the address each datagram was sent to, as dnsmasq, unbound and chrony do. Without it
/// the kernel gives an answer the source its route picks, which on a host with several addresses (127.0.0.2 beside
/// 127.0.0.1, a service address beside the host's own) may not be the one the client sent to, and the client drops
/// the answer. IP_PKTINFO / IPV6_RECVPKTINFO tell each datagram's destination (<see cref="ReadDestination"/>), and an
/// IP_PKTINFO / IPV6_PKTINFO message on the answer sets its source (<see cref="WriteSource"/>).
/// </summary>
internal static class ControlMessages
{
    public const int SOL_IP = 0;
    public const int SOL_IPV6 = 41;
    public const int IP_PKTINFO = 8;
    public const int IPV6_RECVPKTINFO = 49;
    public const int IPV6_PKTINFO = 50;

    /// <summary><c>struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }</c>; the data follows, 8-aligned.</summary>
    public const int HeaderSize = 16;

    private const int InPktinfoSize = 12;   // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst, ipi_addr; }
    private const int In6PktinfoSize = 20;  // struct in6_pktinfo { struct in6_addr ipi6_addr; int ipi6_ifindex; }

    /// <summary>
    /// Control room a receive needs for one datagram's packet information: an IPv4 datagram on a dual-stack socket
    /// brings both messages (IPV6_PKTINFO with the address IPv4-mapped, then IP_PKTINFO), 32 + 40 bytes.
    /// </summary>
    public const int PacketInfoSpace = HeaderSize + ((InPktinfoSize + 7) & ~7) + HeaderSize + ((In6PktinfoSize + 7) & ~7);

    /// <summary>Control room an answer's source needs (<see cref="WriteSource"/>): the larger one, IPV6_PKTINFO.</summary>
    public const int SourceSpace = HeaderSize + ((In6PktinfoSize + 7) & ~7);

    /// <summary>CMSG_ALIGN: the next multiple of 8.</summary>
    public static int Align(int length) => (length + 7) & ~7;

    /// <summary>CMSG_LEN: a message's <c>cmsg_len</c> for <paramref name="dataLength"/> bytes of data.</summary>
    public static int Length(int dataLength) => HeaderSize + dataLength;

    /// <summary>CMSG_SPACE: the room a message of <paramref name="dataLength"/> bytes of data takes, padding included.</summary>
    public static int Space(int dataLength) => HeaderSize + Align(dataLength);

    /// <summary>
    /// True for the addresses a socket needs packet information for: a wildcard (0.0.0.0, ::, dual-stack included).
    /// A socket bound to one address always answers from it, so it asks for none and pays nothing.
    /// </summary>
    public static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>
    /// Asks the kernel for each datagram's destination: IPV6_RECVPKTINFO on an IPv6 socket, IP_PKTINFO on an IPv4 one,
    /// and both on a dual-stack one. There an IPv4 datagram would bring IPV6_PKTINFO alone, its address IPv4-mapped;
    /// but only IP_PKTINFO tells a subnet broadcast from an address of ours (<see cref="PacketDestination.FromInPktinfo"/>).
    /// </summary>
    public static void EnablePacketInfo(Socket socket)
    {
        ReadOnlySpan<byte> on = [1, 0, 0, 0];
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(SOL_IPV6, IPV6_RECVPKTINFO, on);
            if (!socket.DualMode)
            {
                return;
            }
        }
        socket.SetRawSocketOption(SOL_IP, IP_PKTINFO, on);
    }

    /// <summary>
    /// The destination of a received datagram, from the packet information in <paramref name="control"/> (the
    /// <c>msg_controllen</c> bytes the kernel wrote); unknown when there is none. IP_PKTINFO wins over an IPv4-mapped
    /// IPV6_PKTINFO for the same datagram.
    /// </summary>
    public static PacketDestination ReadDestination(ReadOnlySpan<byte> control)
    {
        var found = default(PacketDestination);
        var reader = new Reader(control);
        while (reader.MoveNext())
        {
            if (reader.Level == SOL_IP && reader.Type == IP_PKTINFO && reader.Data.Length >= InPktinfoSize)
            {
                found = PacketDestination.FromInPktinfo(reader.Data);
            }
            else if (reader.Level == SOL_IPV6 && reader.Type == IPV6_PKTINFO && reader.Data.Length >= In6PktinfoSize && !found.IsKnown)
            {
                found = PacketDestination.FromIn6Pktinfo(reader.Data);
            }
        }
        return found;
    }

    /// <summary>
    /// Writes into <paramref name="control"/> (at least <see cref="SourceSpace"/> bytes; it may be the buffer the
    /// destination was read from) the message that makes an answer leave from <paramref name="destination"/>, and
    /// returns its size for <c>msg_controllen</c>; 0 when the kernel should pick the source, as it would with no
    /// message: nothing known, or a multicast or broadcast destination. An IPv4 source is IP_PKTINFO with
    /// <c>ipi_spec_dst</c> set and <c>ipi_ifindex</c> 0, so the route still picks the interface (a dual-stack socket
    /// takes it for an IPv4-mapped peer too); an IPv6 source is IPV6_PKTINFO with <c>ipi6_addr</c> set, and
    /// <c>ipi6_ifindex</c> the arrival interface only for a link-local address, which means nothing without one.
    /// </summary>
    public static int WriteSource(Span<byte> control, in PacketDestination destination)
    {
        if (!destination.IsLocalUnicast)
        {
            return 0;
        }
        if (destination.Family == AddressFamily.InterNetwork)
        {
            var message = control[..Space(InPktinfoSize)];
            message.Clear();
            WriteHeader(message, SOL_IP, IP_PKTINFO, InPktinfoSize);
            destination.WriteV4(message[(HeaderSize + 4)..]); // ipi_spec_dst; ipi_ifindex and ipi_addr stay 0
            return message.Length;
        }
        var v6 = control[..Space(In6PktinfoSize)];
        v6.Clear();
        WriteHeader(v6, SOL_IPV6, IPV6_PKTINFO, In6PktinfoSize);
        destination.WriteV6(v6[HeaderSize..]);
        if (destination.IsLinkLocal)
        {
            BinaryPrimitives.WriteInt32LittleEndian(v6[(HeaderSize + 16)..], destination.InterfaceIndex);
        }
        return v6.Length;
    }

    private static void WriteHeader(Span<byte> message, int level, int type, int dataLength)
    {
        BinaryPrimitives.WriteInt64LittleEndian(message, Length(dataLength));
        BinaryPrimitives.WriteInt32LittleEndian(message[8..], level);
        BinaryPrimitives.WriteInt32LittleEndian(message[12..], type);
    }

    /// <summary>
    /// Walks the messages of a control buffer in order (CMSG_FIRSTHDR/CMSG_NXTHDR): <c>while (reader.MoveNext())</c>,
    /// then <see cref="Level"/>, <see cref="Type"/> and <see cref="Data"/>. Stops at the first malformed header, so a
    /// truncated buffer (MSG_CTRUNC) yields the messages that fit.
    /// </summary>
    public ref struct Reader(ReadOnlySpan<byte> control)
    {
        private readonly ReadOnlySpan<byte> _control = control;
        private int _next;

        public int Level { get; private set; }

        public int Type { get; private set; }

        public ReadOnlySpan<byte> Data { get; private set; }

        public bool MoveNext()
        {
            if (_next > _control.Length - HeaderSize)
            {
                return false;
            }
            var length = BinaryPrimitives.ReadInt64LittleEndian(_control[_next..]);
            if (length < HeaderSize || length > _control.Length - _next)
            {
                return false;
            }
            Level = BinaryPrimitives.ReadInt32LittleEndian(_control[(_next + 8)..]);
            Type = BinaryPrimitives.ReadInt32LittleEndian(_control[(_next + 12)..]);
            Data = _control.Slice(_next + HeaderSize, (int)length - HeaderSize);
            _next += Align((int)length);
            return true;
        }
    }
}
