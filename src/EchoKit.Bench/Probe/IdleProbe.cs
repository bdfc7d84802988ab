using System.Globalization;
using System.Net;
using EchoKit.Server.Reflect;
using EchoKit.Endpoints;

namespace EchoKit.Probe;

/// <summary>
/// <c>probe idle</c>: how long an idle flow survives on the path (a NAT's or firewall's state timeout). Several flows
/// are left idle for growing periods (1, 2, 4 ... s up to the maximum, all at once); then the gap between the last
/// period survived and the first lost is bisected, three points per round. TCP is checked both ways: an echo sent
/// after the idle period (outbound) and a write the server starts after it (inbound, a "hold" request); UDP by an
/// answer the server sends after the idle period (the mapping must still let it in).
/// </summary>
public static class IdleProbe
{
    private static readonly TimeSpan Setup = TimeSpan.FromSeconds(5);

    /// <summary>Runs the probe; <see cref="ProbeException"/> when it cannot (unreachable, no reflect service).</summary>
    public static async Task<IdleProbeResult> RunAsync(EndpointSpec endpoint, IdleProbeOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var remote = await PreflightTcpAsync(endpoint, options, cancellationToken).ConfigureAwait(false);
        // A check that fails (the server refused a hold over its limit, stopped answering) ends the whole run at once:
        // the other checks could go on for up to twice --max only to report the same failure at the end.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ProbeException? failure = null;
        async Task<IdleFinding> StopOthersOnFailure(Task<IdleFinding> search)
        {
            try
            {
                return await search.ConfigureAwait(false);
            }
            catch (ProbeException ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        var searches = new List<Task<IdleFinding>>();
        if (options.Tcp)
        {
            searches.Add(StopOthersOnFailure(SearchAsync("tcp-outbound", (d, ct) => TcpOutboundAsync(remote, d, options, ct), options, progress, stop.Token)));
            searches.Add(StopOthersOnFailure(SearchAsync("tcp-inbound", (d, ct) => TcpInboundAsync(remote, d, options, ct), options, progress, stop.Token)));
        }
        if (options.Udp)
        {
            if (await UdpAnswersAsync(remote, cancellationToken).ConfigureAwait(false))
            {
                searches.Add(StopOthersOnFailure(SearchAsync("udp-inbound", (d, ct) => UdpInboundAsync(remote, d, options, ct), options, progress, stop.Token)));
            }
            else
            {
                progress?.Report($"udp: no UDP reflect service at {EndpointResolver.FormatAddress(remote)}; UDP not checked");
            }
        }
        try
        {
            var findings = await Task.WhenAll(searches).ConfigureAwait(false);
            return new IdleProbeResult(options.Max.TotalSeconds, findings);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ProbeException && failure is not null && !cancellationToken.IsCancellationRequested)
        {
            // Task.WhenAll throws the first task's exception in list order, which may be a check cancelled because
            // another failed (or a later failure): the first failure is the one to report.
            throw failure;
        }
    }

    private static async Task<IPEndPoint> PreflightTcpAsync(EndpointSpec endpoint, IdleProbeOptions options, CancellationToken cancellationToken)
    {
        await using var client = await ReflectClient.ConnectAsync(endpoint, Setup, cancellationToken).ConfigureAwait(false);
        if (options.Tcp)
        {
            _ = await client.RequestAsync(Info("pre"), Setup, cancellationToken).ConfigureAwait(false)
                ?? throw new ProbeException($"no reflect answer from {EndpointResolver.FormatAddress(client.Remote)} within {Client.ClientErrors.FormatDuration(Setup)} (start the server with --reflect-tcp)");
        }
        return client.Remote;
    }

    private static async Task<bool> UdpAnswersAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        using var udp = new ReflectUdpClient(remote);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (outcome, _, _) = await udp.RequestAsync(Info($"pre{attempt}"), 512, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            if (outcome == ReflectUdpClient.Outcome.Answered)
            {
                return true;
            }
            if (outcome == ReflectUdpClient.Outcome.Refused)
            {
                return false;
            }
        }
        return false;
    }

    private static ReflectRequest Info(string id) => new(ReflectOperation.Info, id, 0, TimeSpan.Zero);

    private static async Task<bool> TcpOutboundAsync(IPEndPoint remote, double seconds, IdleProbeOptions options, CancellationToken cancellationToken)
    {
        await using var client = await ReflectClient.ConnectAsync(remote, Setup, cancellationToken).ConfigureAwait(false);
        if (await client.RequestAsync(Info("start"), Setup, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new ProbeException($"the reflect service at {EndpointResolver.FormatAddress(remote)} stopped answering");
        }
        await Task.Delay(TimeSpan.FromSeconds(seconds), options.Time, cancellationToken).ConfigureAwait(false);
        return await client.RequestAsync(Info("after"), options.Grace, cancellationToken).ConfigureAwait(false) is not null;
    }

    private static async Task<bool> TcpInboundAsync(IPEndPoint remote, double seconds, IdleProbeOptions options, CancellationToken cancellationToken)
    {
        await using var client = await ReflectClient.ConnectAsync(remote, Setup, cancellationToken).ConfigureAwait(false);
        var hold = new ReflectRequest(ReflectOperation.Hold, "hold", 0, TimeSpan.FromSeconds(seconds));
        return await client.RequestAsync(hold, TimeSpan.FromSeconds(seconds) + options.Grace, cancellationToken).ConfigureAwait(false) is not null;
    }

    private static async Task<bool> UdpInboundAsync(IPEndPoint remote, double seconds, IdleProbeOptions options, CancellationToken cancellationToken)
    {
        using var udp = new ReflectUdpClient(remote);
        var answered = false;
        for (var attempt = 0; attempt < 3 && !answered; attempt++)
        {
            // A first exchange makes the mapping two-way ("replied"), as a real client's traffic would.
            answered = (await udp.RequestAsync(Info($"s{attempt}"), 512, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false)).Outcome == ReflectUdpClient.Outcome.Answered;
        }
        if (!answered)
        {
            throw new ProbeException($"the UDP reflect service at {EndpointResolver.FormatAddress(remote)} stopped answering");
        }
        var hold = new ReflectRequest(ReflectOperation.Hold, "hold", 0, TimeSpan.FromSeconds(seconds));
        var (outcome, _, _) = await udp.RequestAsync(hold, 512, TimeSpan.FromSeconds(seconds) + options.Grace, cancellationToken).ConfigureAwait(false);
        return outcome == ReflectUdpClient.Outcome.Answered;
    }

    private static async Task<IdleFinding> SearchAsync(string check, Func<double, CancellationToken, Task<bool>> test, IdleProbeOptions options,
        IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var max = options.Max.TotalSeconds;
        var ladder = new List<double>();
        for (var d = 1.0; d < max; d *= 2)
        {
            ladder.Add(d);
        }
        ladder.Add(max);
        var (survived, lost) = await RoundAsync(check, ladder, test, progress, cancellationToken).ConfigureAwait(false);
        for (var round = 0; round < options.BisectRounds && lost is { } l && l - survived > Math.Max(1, survived / 20); round++)
        {
            var points = Enumerable.Range(1, 3)
                .Select(k => Math.Round(survived + (l - survived) * k / 4, 1))
                .Where(p => p > survived && p < l)
                .Distinct()
                .ToList();
            if (points.Count == 0)
            {
                break;
            }
            var (s, lo) = await RoundAsync(check, points, test, progress, cancellationToken).ConfigureAwait(false);
            survived = Math.Max(survived, s);
            lost = lo is { } found ? Math.Min(found, l) : l;
        }
        return new IdleFinding(check, survived, lost);
    }

    /// <summary>
    /// Tries every idle period at once. A loss at one period cancels the longer ones (they would be lost too), so a
    /// round lasts about as long as its first loss. Returns the longest period survived below the shortest lost.
    /// </summary>
    private static async Task<(double Survived, double? Lost)> RoundAsync(string check, IReadOnlyList<double> points,
        Func<double, CancellationToken, Task<bool>> test, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var cancels = points.Select(_ => CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)).ToArray();
        var running = new Dictionary<Task<bool>, int>();
        for (var i = 0; i < points.Count; i++)
        {
            running[test(points[i], cancels[i].Token)] = i;
        }
        var results = new bool?[points.Count];
        try
        {
            while (running.Count > 0)
            {
                var done = await Task.WhenAny(running.Keys).ConfigureAwait(false);
                var index = running[done];
                running.Remove(done);
                try
                {
                    results[index] = await done.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancels[index].IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    continue; // cancelled after a shorter period was lost
                }
                var seconds = points[index].ToString("0.#", CultureInfo.InvariantCulture);
                progress?.Report($"{check}: idle {seconds} s {(results[index] == true ? "survived" : "lost")}");
                if (results[index] == false)
                {
                    for (var j = 0; j < points.Count; j++)
                    {
                        if (points[j] > points[index])
                        {
                            await cancels[j].CancelAsync().ConfigureAwait(false);
                        }
                    }
                }
            }
        }
        finally
        {
            // A failed check (ProbeException) ends the round: the others are stopped and awaited, never left behind.
            foreach (var cancel in cancels)
            {
                cancel.Cancel();
            }
            foreach (var task in running.Keys)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ProbeException)
                {
                    // Already failing or cancelled: the first failure is what the caller sees.
                }
            }
            foreach (var cancel in cancels)
            {
                cancel.Dispose();
            }
        }
        double? lost = null;
        for (var i = 0; i < points.Count; i++)
        {
            if (results[i] == false && (lost is null || points[i] < lost))
            {
                lost = points[i];
            }
        }
        var survived = 0.0;
        for (var i = 0; i < points.Count; i++)
        {
            if (results[i] == true && (lost is null || points[i] < lost))
            {
                survived = Math.Max(survived, points[i]);
            }
        }
        return (survived, lost);
    }
}
