using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// Batched datagram I/O for one receive loop on 64-bit Linux: <c>recvmmsg</c> takes every datagram waiting (up to
/// <see cref="Capacity"/>) in one system call, <c>sendmmsg</c> sends all their echoes in one more, where a plain
/// <c>recvfrom</c>/<c>sendto</c> loop makes two calls per datagram. The message headers, I/O vectors, addresses and
/// payload buffers live in arrays pinned once for the loop's life (written with plain byte writes, no unsafe code),
/// so a batch allocates nothing. Each slot holds a whole datagram (64 KiB), so none is truncated.
/// <para>
/// For a socket bound to a wildcard address (<c>answerFromDestination</c>), each slot also has a control buffer: the
/// kernel writes the datagram's destination there (IP_PKTINFO / IPV6_PKTINFO, which the socket must have asked for:
/// <see cref="ControlMessages.EnablePacketInfo"/>), and <see cref="Mark"/> turns it in place into the message that
/// makes the echo leave from that address (<see cref="ControlMessages.WriteSource"/>). A socket bound to one address
/// gets no control buffers and no extra work.
/// </para>
/// </summary>
internal sealed class UdpBatchIo
{
    private const int AddressSlot = 32; // sockaddr_in6 is 28 bytes
    private const int ControlSlot = ControlMessages.PacketInfoSpace;

    private readonly int _slotSize;
    private readonly byte[] _data;
    private readonly byte[] _addresses;
    private readonly byte[] _receiveHeaders;
    private readonly byte[] _receiveVectors;
    private readonly byte[] _sendHeaders;
    private readonly byte[] _sendVectors;
    private readonly nint _receiveHeadersAddress;
    private readonly nint _sendHeadersAddress;
    private readonly byte[]? _control;
    private readonly nint _controlAddress;
    private readonly int[] _markedIndex;
    private int _marked;

    public UdpBatchIo(int capacity, int slotSize, bool answerFromDestination = false)
    {
        Capacity = capacity;
        _slotSize = slotSize;
        _data = GC.AllocateUninitializedArray<byte>(capacity * slotSize, pinned: true);
        _addresses = GC.AllocateArray<byte>(capacity * AddressSlot, pinned: true);
        _receiveHeaders = GC.AllocateArray<byte>(capacity * MessageHeader.MultipleSize, pinned: true);
        _receiveVectors = GC.AllocateArray<byte>(capacity * MessageHeader.IovecSize, pinned: true);
        _sendHeaders = GC.AllocateArray<byte>(capacity * MessageHeader.MultipleSize, pinned: true);
        _sendVectors = GC.AllocateArray<byte>(capacity * MessageHeader.IovecSize, pinned: true);
        _receiveHeadersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_receiveHeaders, 0);
        _sendHeadersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_sendHeaders, 0);
        _markedIndex = new int[capacity];
        if (answerFromDestination)
        {
            _control = GC.AllocateArray<byte>(capacity * ControlSlot, pinned: true);
            _controlAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_control, 0);
        }
        for (var i = 0; i < capacity; i++)
        {
            var data = Marshal.UnsafeAddrOfPinnedArrayElement(_data, i * slotSize);
            var name = Marshal.UnsafeAddrOfPinnedArrayElement(_addresses, i * AddressSlot);
            WriteLong(_receiveVectors, i * MessageHeader.IovecSize, data);
            WriteLong(_receiveVectors, i * MessageHeader.IovecSize + 8, slotSize);
            var header = i * MessageHeader.MultipleSize;
            WriteLong(_receiveHeaders, header + MessageHeader.NameOffset, name);
            WriteLong(_receiveHeaders, header + MessageHeader.VectorOffset, Marshal.UnsafeAddrOfPinnedArrayElement(_receiveVectors, i * MessageHeader.IovecSize));
            WriteLong(_receiveHeaders, header + MessageHeader.VectorCountOffset, 1);
            if (_control is not null)
            {
                WriteLong(_receiveHeaders, header + MessageHeader.ControlOffset, _controlAddress + i * ControlSlot);
            }
            // The send headers point at the same address slots and (through their own vectors) the same data.
            WriteLong(_sendHeaders, header + MessageHeader.VectorOffset, Marshal.UnsafeAddrOfPinnedArrayElement(_sendVectors, i * MessageHeader.IovecSize));
            WriteLong(_sendHeaders, header + MessageHeader.VectorCountOffset, 1);
        }
    }

    /// <summary>True where the batched calls and the struct layouts (<see cref="MessageHeader"/>) hold: Linux on a 64-bit processor.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && IntPtr.Size == 8 &&
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Datagrams per batch.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Waits for at least one datagram, then takes all that are waiting, up to <see cref="Capacity"/>; returns how
    /// many. Throws <see cref="SocketException"/> on an error.
    /// </summary>
    public int Receive(Socket socket)
    {
        for (var i = 0; i < Capacity; i++)
        {
            // The kernel wrote the actual address (and control) lengths of the last batch; give every slot its full size back.
            BinaryPrimitives.WriteInt32LittleEndian(_receiveHeaders.AsSpan(i * MessageHeader.MultipleSize + MessageHeader.NameLengthOffset), AddressSlot);
            if (_control is not null)
            {
                WriteLong(_receiveHeaders, i * MessageHeader.MultipleSize + MessageHeader.ControlLengthOffset, ControlSlot);
            }
        }
        _marked = 0;
        while (true)
        {
            var count = Libc.RecvMmsg((int)socket.SafeHandle.DangerousGetHandle(), _receiveHeadersAddress, (uint)Capacity, Libc.MSG_WAITFORONE, 0);
            if (count >= 0)
            {
                return count;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SocketException((int)Errno.ToSocketError(errno));
            }
        }
    }

    /// <summary>Payload bytes of datagram <paramref name="index"/> of the last batch.</summary>
    public int Length(int index) => BinaryPrimitives.ReadInt32LittleEndian(_receiveHeaders.AsSpan(index * MessageHeader.MultipleSize + MessageHeader.MultipleLengthOffset));

    /// <summary>The payload of datagram <paramref name="index"/> of the last batch.</summary>
    public Span<byte> Data(int index) => _data.AsSpan(index * _slotSize, Length(index));

    /// <summary>Copies the source address of datagram <paramref name="index"/> into <paramref name="address"/>.</summary>
    public void CopyAddress(int index, SocketAddress address)
    {
        var length = Math.Min(BinaryPrimitives.ReadInt32LittleEndian(_receiveHeaders.AsSpan(index * MessageHeader.MultipleSize + MessageHeader.NameLengthOffset)), AddressSlot);
        length = Math.Min(length, address.Buffer.Length);
        _addresses.AsSpan(index * AddressSlot, length).CopyTo(address.Buffer.Span);
        address.Size = length;
    }

    /// <summary>
    /// Queues datagram <paramref name="index"/>'s echo for <see cref="SendMarked"/>: to the datagram's source, and
    /// (with control buffers) from the address it was sent to.
    /// </summary>
    public void Mark(int index)
    {
        var header = _marked * MessageHeader.MultipleSize;
        var vector = _marked * MessageHeader.IovecSize;
        WriteLong(_sendVectors, vector, Marshal.UnsafeAddrOfPinnedArrayElement(_data, index * _slotSize));
        WriteLong(_sendVectors, vector + 8, Length(index));
        WriteLong(_sendHeaders, header + MessageHeader.NameOffset, Marshal.UnsafeAddrOfPinnedArrayElement(_addresses, index * AddressSlot));
        BinaryPrimitives.WriteInt32LittleEndian(_sendHeaders.AsSpan(header + MessageHeader.NameLengthOffset),
            BinaryPrimitives.ReadInt32LittleEndian(_receiveHeaders.AsSpan(index * MessageHeader.MultipleSize + MessageHeader.NameLengthOffset)));
        if (_control is not null)
        {
            // The slot's control buffer now holds what the kernel wrote; the answer's message replaces it in place.
            var slot = _control.AsSpan(index * ControlSlot, ControlSlot);
            var received = (int)Math.Min((ulong)ReadLong(_receiveHeaders, index * MessageHeader.MultipleSize + MessageHeader.ControlLengthOffset), ControlSlot);
            var destination = ControlMessages.ReadDestination(slot[..received]);
            var length = ControlMessages.WriteSource(slot, destination);
            WriteLong(_sendHeaders, header + MessageHeader.ControlOffset, length == 0 ? 0 : _controlAddress + index * ControlSlot);
            WriteLong(_sendHeaders, header + MessageHeader.ControlLengthOffset, length);
        }
        _markedIndex[_marked] = index;
        _marked++;
    }

    /// <summary>Echoes queued since the last batch was received.</summary>
    public int MarkedCount => _marked;

    /// <summary>
    /// Sends every queued echo; for each one the kernel refuses, calls <paramref name="onFailure"/> with the
    /// datagram's index in the batch and the error, and goes on with the next. Returns how many were sent.
    /// </summary>
    public int SendMarked(Socket socket, Action<int, SocketError> onFailure)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var next = 0;
        var sent = 0;
        while (next < _marked)
        {
            var count = Libc.SendMmsg(fd, _sendHeadersAddress + next * MessageHeader.MultipleSize, (uint)(_marked - next), 0);
            if (count > 0)
            {
                next += count;
                sent += count;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (count < 0 && errno == Errno.EINTR)
            {
                continue;
            }
            // The message at 'next' failed (sendmmsg reports the error of the first message it could not send).
            onFailure(_markedIndex[next], count < 0 ? Errno.ToSocketError(errno) : SocketError.SocketError);
            next++;
        }
        _marked = 0;
        return sent;
    }

    private static void WriteLong(byte[] target, int offset, long value) =>
        BinaryPrimitives.WriteInt64LittleEndian(target.AsSpan(offset), value);

    private static long ReadLong(byte[] source, int offset) =>
        BinaryPrimitives.ReadInt64LittleEndian(source.AsSpan(offset));
}
