using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EchoKit.Internal.Linux;

namespace EchoKit.Tests.Udp;

/// <summary>
/// The packet information a wildcard UDP socket reads (IP_PKTINFO, IPV6_PKTINFO) and the message it puts on an
/// answer to leave from the same address, as the kernel lays them out on 64-bit Linux. Broadcast and multicast
/// destinations, which no functional test on loopback can send, are covered here.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class ControlMessagesTests
{
    private static byte[] InPktinfo(string specificDestination, string address, int interfaceIndex = 1)
    {
        var message = new byte[ControlMessages.Space(12)];
        WriteHeader(message, ControlMessages.SOL_IP, ControlMessages.IP_PKTINFO, 12);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(16), interfaceIndex);
        IPAddress.Parse(specificDestination).TryWriteBytes(message.AsSpan(20), out _);
        IPAddress.Parse(address).TryWriteBytes(message.AsSpan(24), out _);
        return message;
    }

    private static byte[] In6Pktinfo(string address, int interfaceIndex = 1)
    {
        var message = new byte[ControlMessages.Space(20)];
        WriteHeader(message, ControlMessages.SOL_IPV6, ControlMessages.IPV6_PKTINFO, 20);
        IPAddress.Parse(address).TryWriteBytes(message.AsSpan(16), out _);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(32), interfaceIndex);
        return message;
    }

    private static byte[] Ttl(int ttl)
    {
        var message = new byte[ControlMessages.Space(4)];
        WriteHeader(message, ControlMessages.SOL_IP, 2, 4); // IP_TTL
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(16), ttl);
        return message;
    }

    private static void WriteHeader(byte[] message, int level, int type, int dataLength)
    {
        BinaryPrimitives.WriteInt64LittleEndian(message, 16 + dataLength);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), level);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), type);
    }

    private static byte[] Answer(byte[] received)
    {
        var control = new byte[ControlMessages.SourceSpace];
        var length = ControlMessages.WriteSource(control, ControlMessages.ReadDestination(received));
        return control[..length];
    }

    [Fact]
    public void ArithmeticFollowsCmsgMacrosOn64BitLinux()
    {
        Assert.Equal(28, ControlMessages.Length(12));
        Assert.Equal(32, ControlMessages.Space(12));
        Assert.Equal(40, ControlMessages.Space(20));
        Assert.Equal(24, ControlMessages.Space(1));
        Assert.Equal(72, ControlMessages.PacketInfoSpace);
        Assert.Equal(40, ControlMessages.SourceSpace);
    }

    [Fact]
    public void IPv4DestinationOfOursBecomesTheAnswersSpecificDestination()
    {
        var answer = Answer(InPktinfo("127.0.0.2", "127.0.0.2", interfaceIndex: 1));

        Assert.Equal(32, answer.Length);
        Assert.Equal(28, BinaryPrimitives.ReadInt64LittleEndian(answer));
        Assert.Equal(ControlMessages.SOL_IP, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(8)));
        Assert.Equal(ControlMessages.IP_PKTINFO, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(12)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(16))); // ipi_ifindex: the route picks
        Assert.Equal(IPAddress.Parse("127.0.0.2").GetAddressBytes(), answer[20..24]); // ipi_spec_dst
        Assert.Equal(new byte[8], answer[24..]); // ipi_addr (ignored) and padding
    }

    [Theory]
    [InlineData("192.0.2.2", "192.0.2.255")]       // subnet broadcast: ipi_spec_dst is the interface's address
    [InlineData("192.0.2.2", "255.255.255.255")]   // limited broadcast
    [InlineData("192.0.2.2", "239.1.2.3")]         // multicast
    [InlineData("239.1.2.3", "239.1.2.3")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    public void IPv4BroadcastOrMulticastDestinationLeavesTheSourceToTheKernel(string specificDestination, string address)
    {
        var destination = ControlMessages.ReadDestination(InPktinfo(specificDestination, address));

        Assert.False(destination.IsLocalUnicast);
        Assert.Equal(IPAddress.Parse(address), destination.ToAddress()); // still what the datagram was sent to
        Assert.Equal(0, ControlMessages.WriteSource(new byte[ControlMessages.SourceSpace], destination));
    }

    [Fact]
    public void IPv6DestinationOfOursBecomesTheAnswersSourceWithoutInterface()
    {
        var answer = Answer(In6Pktinfo("2001:db8::7", interfaceIndex: 3));

        Assert.Equal(40, answer.Length);
        Assert.Equal(36, BinaryPrimitives.ReadInt64LittleEndian(answer));
        Assert.Equal(ControlMessages.SOL_IPV6, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(8)));
        Assert.Equal(ControlMessages.IPV6_PKTINFO, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(12)));
        Assert.Equal(IPAddress.Parse("2001:db8::7").GetAddressBytes(), answer[16..32]);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(32)));
    }

    [Fact]
    public void IPv6LinkLocalDestinationKeepsItsInterface()
    {
        var received = In6Pktinfo("fe80::1", interfaceIndex: 3);
        var destination = ControlMessages.ReadDestination(received);
        var answer = Answer(received);

        Assert.Equal(new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), 3), destination.ToAddress());
        Assert.Equal(IPAddress.Parse("fe80::1").GetAddressBytes(), answer[16..32]);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(32)));
    }

    [Theory]
    [InlineData("ff02::1")]
    [InlineData("::")]
    public void IPv6MulticastDestinationLeavesTheSourceToTheKernel(string address)
    {
        Assert.Empty(Answer(In6Pktinfo(address)));
    }

    [Fact]
    public void IPv4DatagramOnADualStackSocketIsAnsweredByItsIPPktinfo()
    {
        // The kernel writes IPV6_PKTINFO (the address IPv4-mapped) first, then IP_PKTINFO; TTL may sit between.
        byte[] received = [.. In6Pktinfo("::ffff:127.0.0.2"), .. Ttl(64), .. InPktinfo("127.0.0.2", "127.0.0.2")];
        var destination = ControlMessages.ReadDestination(received);

        Assert.Equal(AddressFamily.InterNetwork, destination.Family);
        Assert.True(destination.IsLocalUnicast);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), destination.ToAddress());
        Assert.Equal(32, Answer(received).Length);
    }

    [Fact]
    public void IPv4MappedDestinationAloneIsReportedButNotAnsweredFrom()
    {
        // Without IP_PKTINFO nothing tells a subnet broadcast from an address of ours.
        var destination = ControlMessages.ReadDestination(In6Pktinfo("::ffff:192.0.2.255"));

        Assert.Equal(IPAddress.Parse("192.0.2.255"), destination.ToAddress());
        Assert.False(destination.IsLocalUnicast);
    }

    [Fact]
    public void AnswerIsWrittenInPlaceOverTheReceivedMessages()
    {
        // As a batch slot does: one buffer, read then overwritten.
        var slot = new byte[ControlMessages.PacketInfoSpace];
        byte[] received = [.. In6Pktinfo("::ffff:127.0.0.2"), .. InPktinfo("127.0.0.2", "127.0.0.2")];
        received.CopyTo(slot, 0);

        var length = ControlMessages.WriteSource(slot, ControlMessages.ReadDestination(slot));

        Assert.Equal(32, length);
        Assert.Equal(ControlMessages.IP_PKTINFO, BinaryPrimitives.ReadInt32LittleEndian(slot.AsSpan(12)));
        Assert.Equal(IPAddress.Parse("127.0.0.2").GetAddressBytes(), slot[20..24]);
    }

    [Fact]
    public void NoOrMalformedControlDataMeansNoDestination()
    {
        var truncated = InPktinfo("127.0.0.2", "127.0.0.2")[..20]; // cmsg_len says 28
        var zeroLength = new byte[32];

        Assert.False(ControlMessages.ReadDestination([]).IsKnown);
        Assert.False(ControlMessages.ReadDestination(truncated).IsKnown);
        Assert.False(ControlMessages.ReadDestination(zeroLength).IsKnown);
        Assert.Empty(Answer(truncated));
    }
}
