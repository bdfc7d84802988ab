using System.Collections.Concurrent;
using System.Diagnostics;
using EchoKit.Testing;

namespace EchoKit.Tests.Support;

/// <summary>
/// Misbehaviours only these tests need, built on the one fake-server kit, EchoKit.Testing's
/// <see cref="MisbehavingTcpServer"/> (<c>Custom</c>); the ones worth shipping are that class's own factories.
/// </summary>
internal static class FakeServers
{
    /// <summary>Accepts and reads everything, never answers, never closes: a peer that has gone quiet.</summary>
    public static MisbehavingTcpServer Silent() => MisbehavingTcpServer.Custom(async (client, stop) =>
    {
        var buffer = new byte[4096];
        while (await client.ReceiveAsync(buffer, stop) > 0)
        {
            // Read and dropped: this peer never answers.
        }
        await Task.Delay(Timeout.Infinite, stop);
    });

    /// <summary>
    /// Echoes every chunk it reads exactly <paramref name="delay"/> after reading it, never earlier: a server whose
    /// latency is known, the ground truth for a load generator's clock (with one message in flight per connection,
    /// each message's true round trip is at least <paramref name="delay"/>). When <paramref name="held"/> is given,
    /// the hold each chunk really had (the delay plus the server's own lateness on a busy machine) is added to it.
    /// Unlike <see cref="MisbehavingTcpServer.Slow"/> it measures on the real clock, since the bench it checks does.
    /// </summary>
    public static MisbehavingTcpServer Delaying(TimeSpan delay, ConcurrentQueue<TimeSpan>? held = null) => MisbehavingTcpServer.Custom(async (client, stop) =>
    {
        var buffer = new byte[64 * 1024];
        while (await client.ReceiveAsync(buffer, stop) is var read and > 0)
        {
            var arrived = Stopwatch.GetTimestamp();
            await Task.Delay(delay, stop);
            while (Stopwatch.GetElapsedTime(arrived) < delay)
            {
                await Task.Yield(); // a timer may fire a hair early: hold until the full delay has passed
            }
            held?.Enqueue(Stopwatch.GetElapsedTime(arrived));
            await SocketIo.SendAllAsync(client, buffer.AsMemory(0, read), stop);
        }
    });
}
