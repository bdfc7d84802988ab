using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// A TCP client's address kept as 24 bytes inside its connection instead of an <see cref="IPEndPoint"/> and its
/// <see cref="IPAddress"/> (about 70 bytes of objects per idle connection): the objects are made only when something
/// needs them (the access list, a log line).
/// </summary>
internal readonly struct PeerAddress
{
    private readonly ulong _high;   // IPv6 bytes 0-7, or the IPv4 address in the low 4 bytes
    private readonly ulong _low;    // IPv6 bytes 8-15
    private readonly uint _scope;
    private readonly ushort _port;
    private readonly byte _family; // 0: none, 4 or 6

    private PeerAddress(ulong high, ulong low, uint scope, ushort port, byte family)
    {
        _high = high;
        _low = low;
        _scope = scope;
        _port = port;
        _family = family;
    }

    /// <summary>True when there is no address (a Unix client, or one the kernel did not report).</summary>
    public bool IsEmpty => _family == 0;

    /// <summary>True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104, without making the address object.</summary>
    public bool IsLoopback => _family switch
    {
        4 => (byte)_high == 127, // the first octet is the lowest byte of the little-endian read
        6 => _high == 0 && (_low == 1UL << 56 || ((_low & 0xFFFF_FFFF) == 0xFFFF_0000 && (byte)(_low >> 32) == 127)),
        _ => false,
    };

    public static PeerAddress From(IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return default;
        }
        Span<byte> bytes = stackalloc byte[16];
        endPoint.Address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? new PeerAddress(BinaryPrimitives.ReadUInt32LittleEndian(bytes), 0, 0, (ushort)endPoint.Port, 4)
            : new PeerAddress(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]), (uint)endPoint.Address.ScopeId, (ushort)endPoint.Port, 6);
    }

    /// <summary>Reads a native <c>sockaddr_in</c> or <c>sockaddr_in6</c> as accept4() wrote it; empty for anything else.</summary>
    public static PeerAddress Read(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 2)
        {
            return default;
        }
        var family = BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);
        if (family == Libc.AF_INET && sockaddr.Length >= 16)
        {
            return new PeerAddress(BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[4..]), 0, 0, BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]), 4);
        }
        if (family == Libc.AF_INET6 && sockaddr.Length >= 28)
        {
            return new PeerAddress(BinaryPrimitives.ReadUInt64LittleEndian(sockaddr[8..]), BinaryPrimitives.ReadUInt64LittleEndian(sockaddr[16..]),
                BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..]), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]), 6);
        }
        return default;
    }

    /// <summary>The address as an object (allocates); null when empty.</summary>
    public IPAddress? ToAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        switch (_family)
        {
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)_high);
                return new IPAddress(bytes[..4]);
            case 6:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, _high);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], _low);
                return new IPAddress(bytes, _scope);
            default:
                return null;
        }
    }

    /// <summary>The endpoint as an object (allocates); null when empty.</summary>
    public IPEndPoint? ToEndPoint() => ToAddress() is { } address ? new IPEndPoint(address, _port) : null;

}
