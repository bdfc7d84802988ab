using EchoKit.Endpoints;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>
/// <c>probe lb</c>: opens N connections (or N UDP flows, each from its own socket) to a reflect service behind a
/// load balancer, counts which instance answered each, and checks that one flow keeps reaching one instance.
/// </summary>
public static class LbProbe
{
    /// <summary>Runs the probe; <see cref="ProbeException"/> when no try got an answer.</summary>
    public static async Task<LbProbeResult> RunAsync(EndpointSpec endpoint, int tries, bool udp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = await ReflectClient.ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var remote = addresses[0];
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failed = 0;
        var flowSticky = true;
        ProbeException? firstError = null;
        string? firstFailure = null;
        for (var i = 0; i < tries; i++)
        {
            try
            {
                var instances = udp ? await UdpFlowAsync(remote, i, timeout, cancellationToken).ConfigureAwait(false)
                                    : await TcpFlowAsync(remote, i, timeout, cancellationToken).ConfigureAwait(false);
                if (instances.Count == 0)
                {
                    firstFailure ??= $"no reflect answer from {EndpointResolver.FormatAddress(remote)} within {Client.ClientErrors.FormatDuration(timeout)}";
                    failed++;
                    continue;
                }
                flowSticky &= instances.Distinct().Count() == 1;
                var id = instances[0]; // raw: the text report escapes it once, as for probe nat; JSON escapes it itself
                counts[id] = counts.GetValueOrDefault(id) + 1;
            }
            catch (ProbeException ex)
            {
                firstError ??= ex;
                firstFailure ??= ex.Message;
                failed++;
            }
        }
        if (counts.Count == 0)
        {
            throw firstError ?? new ProbeException($"no reflect answer from {EndpointResolver.FormatAddress(remote)} in {tries} tries (start the server with --reflect-{(udp ? "udp" : "tcp")})");
        }
        return new LbProbeResult(udp ? "udp" : "tcp", tries, counts, failed, flowSticky) { FirstError = firstFailure };
    }

    private static async Task<List<string>> TcpFlowAsync(System.Net.IPEndPoint remote, int index, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var client = await ReflectClient.ConnectAsync(remote, timeout, cancellationToken).ConfigureAwait(false);
        var seen = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var report = await client.RequestAsync(new ReflectRequest(ReflectOperation.Info, $"lb{index}.{i}", 0, TimeSpan.Zero), timeout, cancellationToken).ConfigureAwait(false);
            if (report?.Instance is { } instance)
            {
                seen.Add(instance);
            }
        }
        return seen;
    }

    private static async Task<List<string>> UdpFlowAsync(System.Net.IPEndPoint remote, int index, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new ReflectUdpClient(remote);
        var seen = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var (outcome, report, _) = await client.RequestAsync(new ReflectRequest(ReflectOperation.Info, $"lb{index}.{i}", 0, TimeSpan.Zero), 512, timeout, cancellationToken).ConfigureAwait(false);
            if (outcome == ReflectUdpClient.Outcome.Refused)
            {
                throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(remote)}: port unreachable (start the server with --reflect-udp)");
            }
            if (report?.Instance is { } instance)
            {
                seen.Add(instance);
            }
        }
        return seen;
    }
}
