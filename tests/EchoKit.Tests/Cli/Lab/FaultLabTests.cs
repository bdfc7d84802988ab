using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EchoKit.Tests.Support;
using Xunit.Abstractions;

namespace EchoKit.Tests.Lab;

/// <summary>
/// Faults configured in the lab's router (bench/lab/netlab.sh set: loss, rate, link) between <c>echokit</c> clients
/// and an <c>echokit serve</c> in their own namespaces. Each test checks the tools against the fault it configured:
/// bytes stay exact, measured loss and rate match the configured ones, cut paths resume or fail clearly, vanished
/// peers are reclaimed. Real time only where the kernel needs it (a link down for 3 s); every wait is bounded.
/// </summary>
[Trait("Kind", "Cli")]
public sealed partial class FaultLabTests(ITestOutputHelper output)
{
    private const int EchoPort = 7000;

    // Bounds on a loaded machine: a slow run must not pass for a hang, nor a hang for a slow run.
    private static readonly TimeSpan RunTimeout = TestTimeouts.Lab;

    [LabFact]
    public async Task FivePercentLossEachWayLeavesA16MiBSendAndABenchByteExact()
    {
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        await StartEchoServerAsync(lab);
        await lab.SetAsync("loss", "5");
        var file = RandomFile(16 << 20);
        try
        {
            var watch = Stopwatch.StartNew();
            var send = lab.Start("client", ["send", Target(lab), "--file", file, "--timeout", "100s"], RunTimeout);
            var code = await send.WaitForExitAsync();
            output.WriteLine($"16 MiB send through 5% loss each way: exit {code} in {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.True(code == 0, send.Stderr);
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(send.StdoutBytes), "the 16 MiB echo differs from what was sent");
        }
        finally
        {
            File.Delete(file);
        }

        var (benchCode, stdout, stderr) = await lab.RunClientAsync(RunTimeout, "bench", Target(lab), "--duration", "5s", "--warmup", "0",
            "--connections", "4", "--pipeline", "4", "--size", "4096", "--json");
        Assert.True(benchCode == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.True(result.GetProperty("messages").GetInt64() > 0);
        Assert.Equal(0, result.GetProperty("mismatches").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetInt64());
        output.WriteLine($"bench through 5% loss: {result.GetProperty("messages").GetInt64()} messages, {result.GetProperty("mismatches").GetInt64()} mismatches");
    }

    [LabFact]
    public async Task UdpBenchMeasuresTheConfiguredLossWithinItsStatisticalBand()
    {
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        await StartEchoServerAsync(lab);
        await lab.SetAsync("loss", "5");

        // A short loss timeout: the lab's round trip is well under a millisecond, and a lost datagram holds its place
        // in the window until then.
        var (code, stdout, stderr) = await lab.RunClientAsync(RunTimeout, "bench", Target(lab), "--udp", "--duration", "5s", "--warmup", "0",
            "--connections", "4", "--pipeline", "64", "--loss-timeout", "200ms", "--json");
        Assert.True(code is 0 or 1, stderr); // 1: datagrams were lost, as configured
        var udp = JsonDocument.Parse(stdout).RootElement.GetProperty("udp");
        var sent = udp.GetProperty("sent").GetInt64();
        var lost = udp.GetProperty("lost").GetInt64();
        Assert.True(sent >= 5000, $"only {sent} datagrams sent: too few for the band");

        // Each datagram crosses the router twice, each time dropped with p = 0.05: lost with 1 - 0.95^2 = 9.75 %.
        // Lost counts are binomial(sent, 0.0975): 4 sigma either side fails a correct instrument 1 in 16,000 runs.
        const double expected = 1 - 0.95 * 0.95;
        var sigma = Math.Sqrt(expected * (1 - expected) / sent);
        var measured = (double)lost / sent;
        output.WriteLine($"udp: {lost} of {sent} lost = {measured:P2}; band {expected:P2} ± {4 * sigma:P2}");
        Assert.True(Math.Abs(measured - expected) <= 4 * sigma,
            $"loss {measured:P2} of {sent} datagrams is outside {expected:P2} ± {4 * sigma:P2} (4 sigma)");
        Assert.Equal(0, udp.GetProperty("duplicated").GetInt64());
    }

    [LabFact]
    public async Task BenchThroughATenMegabitLimitMeasuresTheLimitAndTheServerMemoryStaysBounded()
    {
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        var server = await StartEchoServerAsync(lab);
        await lab.SetAsync("rate", "10mbit");
        var idleRss = ResidentBytes(server.Id);

        var bench = lab.Start("client", ["bench", Target(lab), "--duration", "5s", "--warmup", "1s",
            "--connections", "4", "--pipeline", "4", "--size", "16384", "--json"], RunTimeout);
        var peakRss = idleRss;
        var exited = bench.WaitForExitAsync();
        while (!exited.IsCompleted)
        {
            peakRss = Math.Max(peakRss, ResidentBytes(server.Id));
            // A sampling interval for the memory gauge, not a wait for an event: the bench's exit ends the loop.
            await Task.WhenAny(exited, Task.Delay(100));
        }
        Assert.True(await exited == 0, bench.Stderr);
        var result = JsonDocument.Parse(bench.Stdout).RootElement;
        Assert.Equal(0, result.GetProperty("mismatches").GetInt64());

        // tbf counts whole frames on the router's link towards the server, which carries the requests (the echoes
        // come back on the other link). A full frame is 1514 B for 1448 B of payload (MSS 1460 less 12 B of TCP
        // timestamps; 14 + 20 + 32 B of headers), so the payload can pass at 10 Mbit/s x 1448/1514 = 1.140 MiB/s.
        // bench's MiB/s counts echoed payload, which equals the payload that got through.
        var limit = 10e6 / 8 * 1448 / 1514 / (1 << 20);
        var measured = result.GetProperty("mib_per_sec").GetDouble();
        output.WriteLine($"rate: {measured:0.000} MiB/s of payload, limit {limit:0.000} MiB/s ({measured / limit:P1}); server RSS {idleRss >> 20} -> peak {peakRss >> 20} MiB");
        Assert.True(Math.Abs(measured - limit) <= 0.1 * limit, $"{measured:0.000} MiB/s through a {limit:0.000} MiB/s payload limit");

        // Four connections hold at most 4 x 4 x 64 KiB in the server (docs: --buffer-size); 64 MiB is room for the
        // runtime's own growth under load. A server buffering what it cannot send would grow by the backlog instead.
        Assert.True(peakRss - idleRss <= 64L << 20, $"server RSS grew from {idleRss >> 20} MiB to {peakRss >> 20} MiB");
    }

    [LabFact]
    public async Task TcpEchoResumesAndCompletesAfterTheLinkIsDownForThreeSeconds()
    {
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        var server = await StartEchoServerAsync(lab);
        // 4 MiB at 10 Mbit/s takes about 3.5 s: the cut below lands in the middle of the transfer.
        await lab.SetAsync("rate", "10mbit");
        var file = RandomFile(4 << 20);
        try
        {
            var watch = Stopwatch.StartNew();
            var send = lab.Start("client", ["send", Target(lab), "--file", file, "--timeout", "60s"], RunTimeout);
            await server.WaitForLineAsync(OnlineLine());
            await lab.SetAsync("link", "down");
            // The fault itself lasts 3 s of real time: the kernel's retransmission timers are what is tested.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(send.HasExited, $"send ended while the link was down: {send.Stderr}");
            await lab.SetAsync("link", "up");

            var code = await send.WaitForExitAsync();
            output.WriteLine($"4 MiB at 10 Mbit/s with a 3 s cut: exit {code} in {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.True(code == 0, send.Stderr);
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(send.StdoutBytes), "the echo differs from what was sent");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [LabFact]
    public async Task SendFailsWithATimeoutWhenTheLinkStaysDownLongerThanItsTimeout()
    {
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        var server = await StartEchoServerAsync(lab);
        await lab.SetAsync("rate", "10mbit");
        var file = RandomFile(4 << 20);
        try
        {
            var watch = Stopwatch.StartNew();
            var send = lab.Start("client", ["send", Target(lab), "--file", file, "--timeout", "3s"], RunTimeout);
            await server.WaitForLineAsync(OnlineLine());
            await lab.SetAsync("link", "down"); // and it stays down

            var code = await send.WaitForExitAsync();
            Assert.Equal(1, code);
            var stderr = send.Stderr.Trim();
            Assert.DoesNotContain('\n', stderr);
            Assert.Contains("timed out", stderr);
            output.WriteLine($"cut longer than --timeout 3s: exit {code} after {watch.Elapsed.TotalSeconds:0.0} s: {stderr}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"send took {watch.Elapsed} to give up");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [LabFact]
    public async Task HalfOpenPeersAreReclaimedByTheIdleTimeoutAndStopCompletes()
    {
        const int peers = 8;
        await using var lab = await NetLab.UpAsync("--prefix", "ekf");
        var server = await StartEchoServerAsync(lab, "--idle-timeout", "3s", "--shutdown-timeout", "2s");
        var clients = lab.Start("client", ["bench", Target(lab), "--connections", peers.ToString(CultureInfo.InvariantCulture),
            "--duration", "5m", "--warmup", "0", "--size", "64"], RunTimeout);
        for (var i = 0; i < peers; i++)
        {
            await server.WaitForLineAsync(OnlineLine());
        }

        // The peers vanish: every packet dropped, no FIN, no RST. Only the idle timeout can tell.
        await lab.SetAsync("loss", "100");
        for (var i = 0; i < peers; i++)
        {
            await server.WaitForLineAsync(IdleClosedLine());
        }
        Assert.False(clients.HasExited, "the clients must still think they are connected");

        var watch = Stopwatch.StartNew();
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped", server.Stdout);
        output.WriteLine($"half-open: {peers} reclaimed by the 3 s idle timeout; stop took {watch.Elapsed.TotalSeconds:0.00} s");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"stop took {watch.Elapsed}");
    }

    private static string Target(NetLab lab) => $"{lab.ServerIp}:{EchoPort}";

    private static async Task<EchokitProcess> StartEchoServerAsync(NetLab lab, params string[] extra)
    {
        // The lab's client is not loopback: no UDP rate limit, or bench --udp would measure the limiter.
        var server = lab.Start("server", ["serve", "--tcp", $":{EchoPort}", "--udp", $":{EchoPort}", "--udp-rate-limit", "0", .. extra], RunTimeout);
        await server.WaitForListenersAsync(2);
        return server;
    }

    private static string RandomFile(int size)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ekfault-{Guid.NewGuid():N}.bin");
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>VmRSS of a process, in bytes (the lab's server runs as <c>ip netns exec</c>, which execs it in place).</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    [GeneratedRegex(@"#\d+ closed .*\(idle\)")]
    private static partial Regex IdleClosedLine();

    [GeneratedRegex(@"#\d+ online ")]
    private static partial Regex OnlineLine();
}
