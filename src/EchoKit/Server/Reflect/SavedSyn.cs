using System.Buffers.Binary;
using System.Net.Sockets;

namespace EchoKit.Server.Reflect;

/// <summary>
/// The client's SYN as it reached the server (Linux TCP_SAVE_SYN / TCP_SAVED_SYN, read with raw socket options): the
/// MSS option after any clamping on the way, and the SYN's TTL and TOS.
/// </summary>
/// <param name="Mss">The MSS option the SYN carried, or null when it had none.</param>
/// <param name="Ttl">The SYN's TTL (IPv4) or hop limit (IPv6).</param>
/// <param name="Tos">The SYN's TOS byte or traffic class.</param>
internal sealed record SavedSyn(int? Mss, int Ttl, int Tos)
{
    private const int IpProtoTcp = 6;
    private const int TcpSaveSyn = 27;
    private const int TcpSavedSyn = 28;

    /// <summary>Asks the kernel to keep each accepted connection's SYN headers; false where it cannot.</summary>
    public static bool Enable(Socket listener)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            listener.SetRawSocketOption(IpProtoTcp, TcpSaveSyn, [1, 0, 0, 0]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads (once: the kernel frees it) the accepted connection's saved SYN; null when there is none.</summary>
    public static SavedSyn? TryRead(Socket accepted)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        Span<byte> headers = stackalloc byte[512];
        int length;
        try
        {
            length = accepted.GetRawSocketOption(IpProtoTcp, TcpSavedSyn, headers);
        }
        catch (SocketException)
        {
            return null;
        }
        return Parse(headers[..length]);
    }

    /// <summary>Parses IPv4 or IPv6 + TCP headers; null when they do not add up.</summary>
    public static SavedSyn? Parse(ReadOnlySpan<byte> headers)
    {
        if (headers.Length < 20)
        {
            return null;
        }
        int ipLength, ttl, tos;
        switch (headers[0] >> 4)
        {
            case 4:
                ipLength = (headers[0] & 0x0F) * 4;
                ttl = headers[8];
                tos = headers[1];
                break;
            case 6 when headers.Length >= 40:
                ipLength = 40;
                ttl = headers[7];
                tos = (BinaryPrimitives.ReadUInt16BigEndian(headers) >> 4) & 0xFF;
                break;
            default:
                return null;
        }
        if (headers.Length < ipLength + 20)
        {
            return null;
        }
        var tcp = headers[ipLength..];
        var tcpLength = Math.Min((tcp[12] >> 4) * 4, tcp.Length);
        int? mss = null;
        for (var i = 20; i < tcpLength;)
        {
            var kind = tcp[i];
            if (kind == 0)
            {
                break;
            }
            if (kind == 1)
            {
                i++;
                continue;
            }
            if (i + 1 >= tcpLength || tcp[i + 1] < 2)
            {
                break;
            }
            if (kind == 2 && tcp[i + 1] == 4 && i + 4 <= tcpLength)
            {
                mss = BinaryPrimitives.ReadUInt16BigEndian(tcp[(i + 2)..]);
            }
            i += tcp[i + 1];
        }
        return new SavedSyn(mss, ttl, tos);
    }
}
