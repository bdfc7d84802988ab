using System.Buffers.Binary;
using System.Net.Sockets;

namespace EchoKit.Server.Reflect;

/// <summary>
/// What the kernel knows about one TCP connection: TCP_MAXSEG and the parts of TCP_INFO the probes use, read with
/// <see cref="Socket.GetRawSocketOption"/> (no P/Invoke). Linux only; elsewhere <see cref="TryRead"/> returns null.
/// </summary>
/// <param name="Mss">TCP_MAXSEG: the segment size this end sends (after the peer's advertised MSS and options).</param>
/// <param name="AdvertisedMss">tcpi_advmss: the MSS this end advertised in its SYN.</param>
/// <param name="PathMtu">tcpi_pmtu: the path MTU this end uses.</param>
/// <param name="RttMicroseconds">tcpi_rtt: smoothed round-trip time.</param>
/// <param name="RttVarianceMicroseconds">tcpi_rttvar.</param>
/// <param name="Retransmits">tcpi_retransmits: retransmissions of the segment now outstanding.</param>
/// <param name="TotalRetransmits">tcpi_total_retrans: segments retransmitted over the connection's life.</param>
/// <param name="Timestamps">Whether TCP timestamps were negotiated (12 bytes of options in every segment).</param>
internal sealed record TcpPathInfo(int Mss, int AdvertisedMss, int PathMtu, long RttMicroseconds, long RttVarianceMicroseconds,
    int Retransmits, long TotalRetransmits, bool Timestamps)
{
    private const int IpProtoTcp = 6;
    private const int TcpMaxSeg = 2;
    private const int TcpInfoOption = 11;
    private const int TcpiOptTimestamps = 1;

    /// <summary>Bytes of TCP options in every segment when timestamps are on.</summary>
    public const int TimestampOptionBytes = 12;

    /// <summary>
    /// The MSS the peer advertised, as this end can infer it: <see cref="Mss"/> plus the option bytes, when that is
    /// below what this end's own path allows (else the peer's value is hidden behind our own limit).
    /// </summary>
    public int PeerMssEstimate => Mss + (Timestamps ? TimestampOptionBytes : 0);

    /// <summary>Reads the connection's state; null when the platform or socket cannot say.</summary>
    public static TcpPathInfo? TryRead(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.ProtocolType != ProtocolType.Tcp)
        {
            return null;
        }
        try
        {
            Span<byte> mss = stackalloc byte[4];
            socket.GetRawSocketOption(IpProtoTcp, TcpMaxSeg, mss);
            Span<byte> info = stackalloc byte[104];
            var length = socket.GetRawSocketOption(IpProtoTcp, TcpInfoOption, info);
            if (length < 104)
            {
                return null;
            }
            // struct tcp_info (linux/tcp.h): u8 state, ca_state, retransmits, probes, backoff, options, wscale, flags;
            // then u32 rto(8) ato(12) snd_mss(16) rcv_mss(20) ... pmtu(60) rcv_ssthresh(64) rtt(68) rttvar(72)
            // snd_ssthresh(76) snd_cwnd(80) advmss(84) reordering(88) rcv_rtt(92) rcv_space(96) total_retrans(100).
            return new TcpPathInfo(
                BinaryPrimitives.ReadInt32LittleEndian(mss),
                (int)BinaryPrimitives.ReadUInt32LittleEndian(info[84..]),
                (int)BinaryPrimitives.ReadUInt32LittleEndian(info[60..]),
                BinaryPrimitives.ReadUInt32LittleEndian(info[68..]),
                BinaryPrimitives.ReadUInt32LittleEndian(info[72..]),
                info[2],
                BinaryPrimitives.ReadUInt32LittleEndian(info[100..]),
                (info[5] & TcpiOptTimestamps) != 0);
        }
        catch (SocketException)
        {
            // Not connected any more, or an old kernel: the report simply leaves the TCP part out.
            return null;
        }
    }
}
