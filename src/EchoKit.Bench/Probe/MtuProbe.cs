using EchoKit.Endpoints;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>
/// <c>probe mtu</c>: bisects the largest UDP payload that makes the round trip to a reflect service with DF set
/// (IP_PMTUDISC_PROBE), then compares it with the kernel's path MTU (IP_MTU): a path MTU lowered by ICMP is
/// "discovered"; datagrams lost above a size while the kernel still believes the route's MTU is a black hole.
/// </summary>
public static class MtuProbe
{
    private const int Smallest = 256;

    /// <summary>Runs the probe; <see cref="ProbeException"/> when it cannot (no UDP reflect answer even for small datagrams).</summary>
    public static async Task<MtuProbeResult> RunAsync(EndpointSpec endpoint, TimeSpan timeout, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var addresses = await ReflectClient.ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var remote = addresses[0];
        using var udp = new ReflectUdpClient(remote);
        udp.SetPmtuProbe();
        var routeMtu = udp.KernelPathMtu();
        var probes = 0;
        var icmp = false;
        var sequence = 0;

        // Two tries per size: one lost datagram must not pass for a size limit.
        async Task<bool> Fits(int size)
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                probes++;
                var id = $"m{sequence++}";
                var (outcome, _, answered) = await udp.RequestAsync(new ReflectRequest(ReflectOperation.Echo, id, size, TimeSpan.Zero), size, timeout, cancellationToken).ConfigureAwait(false);
                switch (outcome)
                {
                    case ReflectUdpClient.Outcome.Answered:
                        return answered == size;
                    case ReflectUdpClient.Outcome.TooBig:
                        icmp |= routeMtu is { } route && udp.KernelPathMtu() is { } now && now < route;
                        return false;
                    case ReflectUdpClient.Outcome.Refused:
                        throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(remote)}: port unreachable (start the server with --reflect-udp)");
                }
            }
            return false;
        }

        if (!await Fits(Smallest).ConfigureAwait(false))
        {
            throw new ProbeException($"no UDP reflect answer from {EndpointResolver.FormatAddress(remote)} within {Client.ClientErrors.FormatDuration(timeout)} (start the server with --reflect-udp)");
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
        icmp |= routeMtu is { } r && pathMtu is { } p && p < r;
        var blackHole = !icmp && pathMtu is { } kernel && low + udp.HeaderBytes < kernel;

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
        return new MtuProbeResult(low, routeMtu, pathMtu, udp.HeaderBytes, blackHole, icmp, clientMss, serverMss, probes);
    }
}
