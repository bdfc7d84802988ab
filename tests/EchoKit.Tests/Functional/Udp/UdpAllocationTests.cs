using System.Net;
using System.Net.Sockets;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Udp;

[CollectionDefinition(nameof(UdpAllocationTests), DisableParallelization = true)]
public sealed class UdpAllocationCollection;

/// <summary>
/// Measures the whole process's allocations while datagrams flow, so it runs alone (no other test in parallel).
/// The client side uses the synchronous SocketAddress overloads, which allocate nothing either.
/// </summary>
[Collection(nameof(UdpAllocationTests))]
[Trait("Kind", "Functional")]
public sealed class UdpAllocationTests
{
    [Theory]
    [InlineData(16, "127.0.0.1:0")]
    [InlineData(1, "127.0.0.1:0")]
    [InlineData(16, ":0")] // a wildcard: each echo also reads and writes packet information
    [InlineData(1, ":0")]
    public async Task ServerAllocatesNothingPerDatagram(int batch, string endpoint)
    {
        await using var server = await TestServer.StartUdpAsync(o =>
        {
            o.Udp.ReceiveLoops = 2;
            o.Udp.ReceiveBatch = batch;
        }, endpoints: endpoint);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var target = server.Target(IPAddress.Loopback).Serialize();
        var from = new SocketAddress(AddressFamily.InterNetwork);
        var data = UdpEchoTests.Pattern(64);
        var echo = new byte[2048];

        void Exchange(int _)
        {
            client.SendTo(data, SocketFlags.None, target);
            if (client.ReceiveFrom(echo, SocketFlags.None, from) != data.Length)
            {
                Assert.Fail("short echo"); // (no Assert.Equal per datagram: it allocates)
            }
        }

        for (var i = 0; i < 2000; i++)
        {
            Exchange(i); // warm up: JIT tiers, thread pool, cached event args
        }
        const int Count = 20_000;
        AllocationAssert.UnderPerCallInProcess(Count, bytesPerCall: 8, Exchange);

        Assert.Equal(AllocationAssert.Windows * Count + 2000, server.Server.UdpCounters.DatagramsAnswered);
    }
}
