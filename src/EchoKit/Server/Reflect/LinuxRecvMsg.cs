using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Reflect;

/// <summary>
/// One datagram received with recvmsg(2) and its ancillary data: the TTL / hop limit and the TOS / traffic class
/// byte, which .NET's ReceiveMessageFrom does not surface (it gives only IP_PKTINFO), and, on a socket that asked for
/// it (<see cref="ControlMessages.EnablePacketInfo"/>), the address the datagram was sent to. The call itself is the
/// shared Linux layer's (<see cref="Libc.RecvMsg"/>), as is the walk over the control messages
/// (<see cref="ControlMessages"/>); Linux x64/arm64 only (<see cref="IsSupported"/>). Not thread-safe: one instance
/// per receiving thread.
/// </summary>
internal sealed class LinuxRecvMsg
{
    private const int NameSize = 32;
    // An IPv4 datagram on a dual-stack socket brings four messages: IPV6_PKTINFO, IP_PKTINFO, IP_TTL, IP_TOS (120 bytes).
    private const int ControlSize = 256;
    private const int MsgTrunc = 0x20;

    private const int SolIp = ControlMessages.SOL_IP, IpTos = 1, IpTtl = 2, IpRecvTtl = 12, IpRecvTos = 13;
    private const int SolIpv6 = ControlMessages.SOL_IPV6, Ipv6RecvHopLimit = 51, Ipv6HopLimit = 52, Ipv6RecvTclass = 66, Ipv6Tclass = 67;

    private readonly byte[] _data;
    private readonly byte[] _name = GC.AllocateArray<byte>(NameSize, pinned: true);
    private readonly byte[] _control = GC.AllocateArray<byte>(ControlSize, pinned: true);
    private readonly byte[] _vector = GC.AllocateArray<byte>(16, pinned: true);
    private readonly byte[] _header = GC.AllocateArray<byte>(MessageHeader.Size, pinned: true);
    private readonly nint _headerAddress;

    public LinuxRecvMsg(int capacity)
    {
        _data = GC.AllocateArray<byte>(capacity, pinned: true);
        BinaryPrimitives.WriteInt64LittleEndian(_vector, Marshal.UnsafeAddrOfPinnedArrayElement(_data, 0));
        BinaryPrimitives.WriteInt64LittleEndian(_vector.AsSpan(8), capacity);
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(MessageHeader.NameOffset), Marshal.UnsafeAddrOfPinnedArrayElement(_name, 0));
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(MessageHeader.VectorOffset), Marshal.UnsafeAddrOfPinnedArrayElement(_vector, 0));
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(MessageHeader.VectorCountOffset), 1);
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(MessageHeader.ControlOffset), Marshal.UnsafeAddrOfPinnedArrayElement(_control, 0));
        _headerAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_header, 0);
    }

    public static bool IsSupported => OperatingSystem.IsLinux() && IntPtr.Size == 8 &&
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>The last datagram's bytes (cut at the buffer's capacity).</summary>
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, Math.Min(Length, _data.Length));

    /// <summary>The last datagram's full size, even when it was larger than the buffer.</summary>
    public int Length { get; private set; }

    /// <summary>The last datagram's TTL (IPv4) or hop limit (IPv6), when the kernel said.</summary>
    public int? Ttl { get; private set; }

    /// <summary>The last datagram's TOS byte (IPv4) or traffic class (IPv6), when the kernel said.</summary>
    public int? Tos { get; private set; }

    /// <summary>The address the last datagram was sent to, when the socket asked for packet information.</summary>
    public PacketDestination Destination { get; private set; }

    /// <summary>Asks the kernel to attach TTL/hop limit and TOS/traffic class to every datagram (both families on a dual-stack socket).</summary>
    public static void EnableAncillaryData(Socket socket)
    {
        Span<byte> on = [1, 0, 0, 0];
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(SolIpv6, Ipv6RecvHopLimit, on);
            socket.SetRawSocketOption(SolIpv6, Ipv6RecvTclass, on);
            if (socket.DualMode)
            {
                TrySet(socket, SolIp, IpRecvTtl, on);
                TrySet(socket, SolIp, IpRecvTos, on);
            }
            return;
        }
        socket.SetRawSocketOption(SolIp, IpRecvTtl, on);
        socket.SetRawSocketOption(SolIp, IpRecvTos, on);
    }

    /// <summary>
    /// Waits for one datagram (the socket must be blocking; SO_RCVTIMEO bounds the wait). False on a timeout or an
    /// interrupted call; a real failure throws <see cref="SocketException"/>.
    /// </summary>
    public bool Receive(Socket socket, out IPEndPoint? source)
    {
        source = null;
        BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(MessageHeader.NameLengthOffset), NameSize);
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(MessageHeader.ControlLengthOffset), ControlSize);
        var count = Libc.RecvMsg((int)socket.SafeHandle.DangerousGetHandle(), _headerAddress, MsgTrunc);
        if (count < 0)
        {
            var errno = Libc.LastPInvokeError;
            if (errno is Errno.EAGAIN or Errno.EINTR)
            {
                return false;
            }
            // A socket closed under the waiting thread (EBADF) is how the listener stops it.
            throw new SocketException((int)(errno == Errno.EBADF ? SocketError.OperationAborted : Errno.ToSocketError(errno)));
        }
        Length = (int)count;
        source = SocketAddresses.Read(_name);
        ReadControl();
        return true;
    }

    private static void TrySet(Socket socket, int level, int name, ReadOnlySpan<byte> value)
    {
        try
        {
            socket.SetRawSocketOption(level, name, value);
        }
        catch (SocketException)
        {
            // An IPv6-only socket refuses IPv4 options; it will never see an IPv4 datagram anyway.
        }
    }

    private void ReadControl()
    {
        Ttl = null;
        Tos = null;
        var control = _control.AsSpan(0, (int)Math.Min(BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(MessageHeader.ControlLengthOffset)), ControlSize));
        var reader = new ControlMessages.Reader(control);
        while (reader.MoveNext())
        {
            var data = reader.Data;
            switch ((reader.Level, reader.Type))
            {
                case (SolIp, IpTtl) when data.Length >= 4: Ttl = BinaryPrimitives.ReadInt32LittleEndian(data); break;
                case (SolIp, IpTos) when data.Length >= 1: Tos = data[0]; break;
                case (SolIpv6, Ipv6HopLimit) when data.Length >= 4: Ttl = BinaryPrimitives.ReadInt32LittleEndian(data); break;
                case (SolIpv6, Ipv6Tclass) when data.Length >= 4: Tos = BinaryPrimitives.ReadInt32LittleEndian(data); break;
            }
        }
        Destination = ControlMessages.ReadDestination(control);
    }
}
