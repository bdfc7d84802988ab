using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoKit.Internal.Linux;

namespace EchoKit.Probe.Internal;

/// <summary>
/// The MTU of the route this host takes to an address, from the routing table and the outgoing device, leaving out
/// any path MTU the kernel learned for that address from an ICMP "fragmentation needed" / "packet too big".
/// </summary>
/// <remarks>
/// IP_MTU on a connected socket cannot give this: it reads the socket's route entry, which already carries the
/// learned path MTU (an exception the kernel keeps about 10 minutes, <c>ip route get</c>'s "cache expires ... mtu").
/// So the routing table is asked instead, over rtnetlink as <c>ip route get</c> does (no privilege needed), in three
/// requests: the route as used (RTM_GETROUTE) for its outgoing device; the table's entry (RTM_GETROUTE with
/// RTM_F_FIB_MATCH, Linux 4.13+) for an MTU set on the route itself (<c>ip route add ... mtu N</c>), which the kernel
/// takes over the device's; and the device (RTM_GETLINK) for its MTU — for IPv6 the per-device IPv6 MTU
/// (<c>net.ipv6.conf.DEV.mtu</c>, which a router advertisement may lower), as the kernel uses it. Netlink answers in
/// the network namespace of the socket, where /sys/class/net shows the one it was mounted in.
/// </remarks>
internal static class RouteMtu
{
    private const int HeaderSize = 16;        // struct nlmsghdr
    private const int RouteMessageSize = 12;  // struct rtmsg
    private const int LinkMessageSize = 16;   // struct ifinfomsg
    private const ushort NlmFRequest = 1;
    private const ushort RtmNewLink = 16, RtmGetLink = 18, RtmNewRoute = 24, RtmGetRoute = 26;
    private const uint RtmFFibMatch = 0x2000;
    private const int RtaDst = 1, RtaOif = 4, RtaMetrics = 8, RtaxMtu = 2;
    private const int IflaMtu = 4, IflaAfSpec = 26, IflaInet6Conf = 2, DevconfMtu6 = 2;
    private const int AttributeTypeMask = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

    // The kernel answers these requests within send(); the timeout only bounds a kernel that does not.
    private static readonly long[] ReceiveTimeout = [1, 0]; // struct timeval: 1 s

    /// <summary>The route's MTU to <paramref name="destination"/>, or null where it cannot be read (not Linux, netlink refused, no route).</summary>
    public static int? Lookup(IPAddress destination)
    {
        if (!Libc.IsSupported)
        {
            return null;
        }
        if (destination.IsIPv4MappedToIPv6)
        {
            destination = destination.MapToIPv4();
        }
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            var timeout = MemoryMarshal.AsBytes(ReceiveTimeout.AsSpan());
            if (Libc.SetSockOptBytes(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, ref MemoryMarshal.GetReference(timeout), (uint)timeout.Length) != 0)
            {
                return null;
            }
            var buffer = new byte[32 * 1024]; // a link's answer is a few KiB
            var ipv6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
            if (Route(fd, buffer, destination, fibMatch: false, sequence: 1) is not { Device: > 0 } used)
            {
                return null;
            }
            if (Route(fd, buffer, destination, fibMatch: true, sequence: 2) is { Mtu: > 0 } entry)
            {
                return entry.Mtu;
            }
            return Link(fd, buffer, used.Device, ipv6, sequence: 3);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>The outgoing device and the route's own MTU (0: none set) of one RTM_GETROUTE answer.</summary>
    private static (int Device, int Mtu)? Route(int fd, byte[] buffer, IPAddress destination, bool fibMatch, uint sequence)
    {
        Span<byte> address = stackalloc byte[16];
        destination.TryWriteBytes(address, out var addressLength);
        var length = HeaderSize + RouteMessageSize + 4 + addressLength;
        var request = buffer.AsSpan(0, length);
        request.Clear();
        WriteHeader(request, RtmGetRoute, sequence);
        request[HeaderSize] = (byte)(destination.AddressFamily == AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET);
        request[HeaderSize + 1] = (byte)(addressLength * 8); // rtm_dst_len: a host route
        BinaryPrimitives.WriteUInt32LittleEndian(request[(HeaderSize + 8)..], fibMatch ? RtmFFibMatch : 0);
        var attribute = request[(HeaderSize + RouteMessageSize)..];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + addressLength));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], RtaDst);
        address[..addressLength].CopyTo(attribute[4..]);

        var answer = Exchange(fd, buffer, length, sequence, RtmNewRoute);
        if (answer.Length < HeaderSize + RouteMessageSize)
        {
            return null;
        }
        var attributes = answer[(HeaderSize + RouteMessageSize)..];
        var device = Find(attributes, RtaOif);
        var mtu = Find(Find(attributes, RtaMetrics), RtaxMtu);
        return (device.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(device) : 0,
            mtu.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(mtu) : 0);
    }

    /// <summary>The MTU of device <paramref name="index"/> (for IPv6 its IPv6 MTU, when the kernel reports one).</summary>
    private static int? Link(int fd, byte[] buffer, int index, bool ipv6, uint sequence)
    {
        const int length = HeaderSize + LinkMessageSize;
        var request = buffer.AsSpan(0, length);
        request.Clear();
        WriteHeader(request, RtmGetLink, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(request[(HeaderSize + 4)..], index); // ifi_index

        var answer = Exchange(fd, buffer, length, sequence, RtmNewLink);
        if (answer.Length < HeaderSize + LinkMessageSize)
        {
            return null;
        }
        var attributes = answer[(HeaderSize + LinkMessageSize)..];
        if (ipv6)
        {
            var conf = Find(Find(Find(attributes, IflaAfSpec), Libc.AF_INET6), IflaInet6Conf);
            if (conf.Length >= (DevconfMtu6 + 1) * 4 && BinaryPrimitives.ReadInt32LittleEndian(conf[(DevconfMtu6 * 4)..]) is > 0 and var mtu6)
            {
                return mtu6;
            }
        }
        var mtu = Find(attributes, IflaMtu);
        return mtu.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(mtu) : null;
    }

    private static void WriteHeader(Span<byte> request, ushort type, uint sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], NlmFRequest);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
    }

    /// <summary>Sends the request in <paramref name="buffer"/> and returns the answer to it; empty for an error answer (NLMSG_ERROR), a timeout or a failure.</summary>
    private static ReadOnlySpan<byte> Exchange(int fd, byte[] buffer, int length, uint sequence, ushort answerType)
    {
        if (Libc.SendBlocking(fd, ref buffer[0], (nuint)length, 0) != length)
        {
            return default;
        }
        while (true)
        {
            var received = Libc.RecvBlocking(fd, ref buffer[0], (nuint)buffer.Length, 0);
            if (received < HeaderSize)
            {
                return default; // timed out or failed
            }
            var messages = buffer.AsSpan(0, (int)received);
            while (messages.Length >= HeaderSize)
            {
                var size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(messages), int.MaxValue);
                if (size < HeaderSize || size > messages.Length)
                {
                    return default;
                }
                if (BinaryPrimitives.ReadUInt32LittleEndian(messages[8..]) == sequence)
                {
                    return BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]) == answerType ? messages[..size] : default;
                }
                messages = messages[Math.Min(Align(size), messages.Length)..]; // an answer to something else: skip it
            }
        }
    }

    /// <summary>The payload of the first attribute of <paramref name="type"/> in a run of netlink attributes, or empty.</summary>
    private static ReadOnlySpan<byte> Find(ReadOnlySpan<byte> attributes, int type)
    {
        while (attributes.Length >= 4)
        {
            var size = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (size < 4 || size > attributes.Length)
            {
                return default;
            }
            if ((BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & AttributeTypeMask) == type)
            {
                return attributes[4..size];
            }
            attributes = attributes[Math.Min(Align(size), attributes.Length)..];
        }
        return default;
    }

    private static int Align(int size) => (size + 3) & ~3;
}
