using EchoKit.Endpoints;
using EchoKit.Probe.Internal;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>
/// <c>probe mtu</c>: bisects the largest UDP payload that makes the round trip to a reflect service with DF set
/// (IP_PMTUDISC_PROBE), then compares the kernel's path MTU (IP_MTU) with the route's MTU (the routing table and the
/// outgoing device): a path MTU lowered by ICMP is "discovered" — during this run, or by an earlier one the kernel
/// still remembers; datagrams lost above a size while the kernel still believes the route's MTU are a black hole.
/// </summary>
public static class MtuProbe
{
    private const int Smallest = 256;
    private const int Burst = 12, Rounds = 2;
    private static readonly TimeSpan FirstContact = TimeSpan.FromSeconds(2);

    /// <summary>Runs the probe; <see cref="ProbeException"/> when it cannot (no UDP reflect answer even for small datagrams).</summary>
    public static async Task<MtuProbeResult> RunAsync(EndpointSpec endpoint, TimeSpan timeout, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var addresses = await ReflectClient.ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var remote = addresses[0];
        using var udp = new ReflectUdpClient(remote);
        udp.SetPmtuProbe();
        // IP_MTU already includes a path MTU learned from ICMP for this address in the last ~10 minutes, so it cannot
        // stand for the route's; it does where the routing table cannot be read (then a learned one goes unnoticed).
        var startPathMtu = udp.KernelPathMtu();
        var routeMtu = RouteMtu.Lookup(remote.Address) ?? startPathMtu;
        var probes = 0;
        var icmpThisRun = false;
        var sequence = 0;

        // A size counts as lost only after Rounds bursts of Burst datagrams all went unanswered: loss alone makes that
        // happen with probability q^24 (q the round trip's loss; 15 % loss each way, q = 0.28: about 1 in 10^13). An
        // answer is proof the size fits. A size that fits yet needed a second burst means loss is heavy enough to
        // doubt a limit found (lossSeen).
        var lossSeen = false;
        async Task<bool> Fits(int size, int rounds = Rounds)
        {
            for (var round = 0; round < rounds; round++)
            {
                var burst = new ReflectRequest[Burst];
                for (var i = 0; i < burst.Length; i++)
                {
                    burst[i] = new ReflectRequest(ReflectOperation.Echo, $"m{sequence++}", size, TimeSpan.Zero);
                }
                probes += burst.Length;
                var (outcome, _, answered) = await udp.RequestAsync(burst, size, timeout, cancellationToken).ConfigureAwait(false);
                switch (outcome)
                {
                    case ReflectUdpClient.Outcome.Answered:
                        lossSeen |= round > 0;
                        return answered == size;
                    case ReflectUdpClient.Outcome.TooBig:
                        icmpThisRun |= MtuProbeResult.BelowRoute(udp.KernelPathMtu(), routeMtu);
                        return false;
                    case ReflectUdpClient.Outcome.Refused:
                        throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(remote)}: port unreachable (start the server with --reflect-udp)");
                }
            }
            return false;
        }

        // The first contact waits as long as probe nat's (a path just coming up, a first datagram lost to ARP or
        // neighbour discovery); after it, each burst waits --timeout.
        var firstRounds = Math.Max(Rounds, (int)Math.Ceiling(FirstContact / timeout));
        if (!await Fits(Smallest, firstRounds).ConfigureAwait(false))
        {
            throw new ProbeException($"no UDP reflect answer from {EndpointResolver.FormatAddress(remote)} within {Client.ClientErrors.FormatDuration(timeout * firstRounds)} (start the server with --reflect-udp, or UDP is dropped on the path)");
        }
        var low = Smallest;
        var high = Math.Min((routeMtu ?? 1500) - udp.HeaderBytes, remote.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 65_527 : 65_507);
        if (await Fits(high).ConfigureAwait(false))
        {
            low = high;
        }
        else
        {
            // Invariant: low fits, high does not.
            while (high - low > 1)
            {
                var middle = low + (high - low) / 2;
                if (await Fits(middle).ConfigureAwait(false))
                {
                    low = middle;
                }
                else
                {
                    high = middle;
                }
                progress?.Report($"payload {low} fits, {high} does not");
            }
        }
        var pathMtu = udp.KernelPathMtu();
        // Discovered through ICMP: the kernel's path MTU is below the route's, whether lowered in this run or before it.
        var icmp = icmpThisRun || MtuProbeResult.BelowRoute(pathMtu, routeMtu);
        // A black hole: no ICMP in this run, yet datagrams vanished below the size the kernel believes fits (the
        // route's MTU, or a path MTU it learned earlier, while the path still sent ICMP).
        var learnedThisRun = icmpThisRun || pathMtu < startPathMtu;
        var suspect = !learnedThisRun && pathMtu is { } kernel && low + udp.HeaderBytes < kernel;
        // A black hole must be consistent: the smallest lost size is lost again while the largest that fits answers again,
        // and no size that fits lost a whole burst. Otherwise loss may have made the limit: uncertain, no verdict.
        var blackHole = suspect && !lossSeen && !await Fits(high).ConfigureAwait(false) && await Fits(low).ConfigureAwait(false);
        var uncertain = suspect && !blackHole;

        int? clientMss = null, serverMss = null;
        try
        {
            await using var tcp = await ReflectClient.ConnectAsync(remote, timeout, cancellationToken).ConfigureAwait(false);
            var report = await tcp.RequestAsync(new ReflectRequest(ReflectOperation.Info, "mss", 0, TimeSpan.Zero), timeout, cancellationToken).ConfigureAwait(false);
            clientMss = tcp.PathInfo?.Mss;
            serverMss = report?.Tcp?.Mss;
        }
        catch (ProbeException)
        {
            // No TCP reflect service on that port: the MSS stays unknown, the UDP result stands.
        }
        return new MtuProbeResult(low, routeMtu, pathMtu, startPathMtu, udp.HeaderBytes, blackHole, icmp, clientMss, serverMss, probes) { Uncertain = uncertain };
    }
}
