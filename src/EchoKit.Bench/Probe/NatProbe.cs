using System.Net;
using EchoKit.Endpoints;
using EchoKit.Server.ProxyProtocol;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>
/// <c>probe nat</c>: one TCP connection and one UDP datagram to a reflect service; compares what this end knows
/// with what the server saw (address and port, DSCP, MSS, TTL, PROXY header).
/// </summary>
public static class NatProbe
{
    /// <summary>DSCP the UDP datagram is sent with unless told: AF21 (18), a value middleboxes often rewrite.</summary>
    public const int DefaultDscp = 18;

    /// <summary>Runs the probe; <see cref="ProbeException"/> when it cannot (unreachable, no reflect service).</summary>
    public static async Task<NatProbeResult> RunAsync(EndpointSpec endpoint, TimeSpan timeout, int dscp, CancellationToken cancellationToken)
    {
        await using var client = await ReflectClient.ConnectAsync(endpoint, timeout, cancellationToken).ConfigureAwait(false);
        var report = await client.RequestAsync(new ReflectRequest(ReflectOperation.Info, "nat", 0, TimeSpan.Zero), timeout, cancellationToken).ConfigureAwait(false)
            ?? throw new ProbeException($"no reflect answer from {EndpointResolver.FormatAddress(client.Remote)} within {Client.ClientErrors.FormatDuration(timeout)} (start the server with --reflect-tcp)");
        var local = client.Local;
        var seen = report.ClientEndPoint;
        var mine = client.PathInfo;
        var localText = EndpointResolver.FormatAddress(local);
        var nat = seen is null || !Same(seen.Address, local.Address) || seen.Port != local.Port;

        // The SYN as the server received it carries the MSS option after any clamping; this end knows what it sent.
        int? clamped = null;
        if (mine is not null && report.Syn?.Mss is { } arrived && arrived < mine.AdvertisedMss)
        {
            clamped = arrived;
        }

        var problems = new List<string>();
        if (report.Proxy is { } proxy)
        {
            if (proxy.Command == ProxyCommand.Local)
            {
                problems.Add("the PROXY header is a LOCAL command: the proxy hides the client's address");
            }
            else if (proxy.Source is { } source && !Same(source.Address, local.Address) && (seen is null || !Same(source.Address, seen.Address)))
            {
                problems.Add($"the PROXY header names {EndpointResolver.FormatAddress(source)} as the client, but this client is {localText}");
            }
            if (proxy.Destination is { } destination && !Same(destination.Address, client.Remote.Address))
            {
                problems.Add($"the PROXY header names {EndpointResolver.FormatAddress(destination)} as the destination, but this client dialed {EndpointResolver.FormatAddress(client.Remote)}");
            }
        }

        // UDP: DSCP and TTL. A server without a UDP reflect listener on the same port leaves these unknown.
        string? udpSeen = null, udpLocal = null;
        int? dscpSeen = null, ecn = null, ttl = null, hops = null;
        using (var udp = new ReflectUdpClient(client.Remote))
        {
            udp.SetDscp(dscp);
            for (var attempt = 0; attempt < 3 && udpSeen is null; attempt++)
            {
                var (outcome, answer, _) = await udp.RequestAsync(new ReflectRequest(ReflectOperation.Info, $"nat{attempt}", 0, TimeSpan.Zero), 1024, timeout / 3, cancellationToken).ConfigureAwait(false);
                if (outcome == ReflectUdpClient.Outcome.Refused)
                {
                    break;
                }
                if (answer is not null)
                {
                    udpSeen = answer.Client;
                    udpLocal = EndpointResolver.FormatAddress(udp.Local);
                    dscpSeen = answer.Tos >> 2;
                    ecn = answer.Tos & 3;
                    ttl = answer.Ttl;
                    hops = answer.Ttl is { } t ? udp.Ttl - t : null;
                }
            }
        }

        return new NatProbeResult(localText, report.Client ?? "unknown", nat, seen is not null && seen.Port == local.Port,
            EndpointResolver.FormatAddress(client.Remote), report.Local, report.Instance, mine?.Mss, report.Tcp?.Mss, clamped,
            udpSeen, udpLocal, dscp, dscpSeen, ecn, ttl, hops, report.Proxy, problems);
    }

    private static bool Same(IPAddress a, IPAddress b) => Client.ClientTransport.Normalize(a).Equals(Client.ClientTransport.Normalize(b));
}
