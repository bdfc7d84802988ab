using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Internal.Linux;

/// <summary>Conversion between <see cref="IPEndPoint"/> and the native <c>sockaddr_in</c>/<c>sockaddr_in6</c>.</summary>
internal static class SocketAddresses
{
    /// <summary>Room for any address this layer writes (<c>sockaddr_in6</c> is 28 bytes).</summary>
    public const int MaxLength = 28;

    /// <summary>Writes the native address for <paramref name="endPoint"/> into <paramref name="target"/>; returns its length.</summary>
    public static int Write(IPEndPoint endPoint, Span<byte> target)
    {
        target[..MaxLength].Clear();
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(target, Libc.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(target[2..], (ushort)endPoint.Port);
            endPoint.Address.TryWriteBytes(target.Slice(4, 4), out _);
            return 16;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(target, Libc.AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(target[2..], (ushort)endPoint.Port);
        endPoint.Address.TryWriteBytes(target.Slice(8, 16), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(target[24..], (uint)endPoint.Address.ScopeId);
        return 28;
    }

    /// <summary>Reads a native IPv4 or IPv6 address; null for other families or a short buffer.</summary>
    public static IPEndPoint? Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < 2)
        {
            return null;
        }
        var family = BinaryPrimitives.ReadUInt16LittleEndian(source);
        if (family == Libc.AF_INET && source.Length >= 16)
        {
            return new IPEndPoint(new IPAddress(source.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(source[2..]));
        }
        if (family == Libc.AF_INET6 && source.Length >= 28)
        {
            var scope = BinaryPrimitives.ReadUInt32LittleEndian(source[24..]);
            return new IPEndPoint(new IPAddress(source.Slice(8, 16), scope), BinaryPrimitives.ReadUInt16BigEndian(source[2..]));
        }
        return null;
    }
}
