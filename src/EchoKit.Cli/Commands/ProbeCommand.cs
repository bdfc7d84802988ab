using System.CommandLine;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using EchoKit.Probe;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit probe nat|idle|mtu|lb ENDPOINT</c>: asks a reflect service (<c>serve --reflect-tcp/--reflect-udp</c>)
/// what it saw, and reports what the network did on the way (docs/probe.md). Exit 0 when the probe completed,
/// whatever it found; 1 when it could not; 2 on usage errors.
/// </summary>
internal static class ProbeCommand
{
    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON document instead of text." };
    private static readonly Option<TimeSpan> Timeout = CliOptions.Duration("--timeout", "How long to wait for each answer. Default 2s.", TimeSpan.FromSeconds(2));

    public static Command Create()
    {
        var command = new Command("probe", "Ask a reflect service (serve --reflect-tcp/--reflect-udp) what it saw: NAT, idle timeouts, MTU, load balancing.");
        command.Subcommands.Add(Nat());
        command.Subcommands.Add(Idle());
        command.Subcommands.Add(Mtu());
        command.Subcommands.Add(Lb());
        return command;
    }

    private static Command Nat()
    {
        var endpoint = CliOptions.ProbeEndpointArgument();
        var dscp = CliOptions.Int("--dscp", $"DSCP to send the UDP datagram with, to see whether it is rewritten. Default {NatProbe.DefaultDscp} (AF21).", NatProbe.DefaultDscp, 0, 63);
        var command = new Command("nat", "Compare this end's view with the server's: address and port rewritten, DSCP rewritten, MSS clamped, hops, PROXY mistakes.")
        {
            endpoint, dscp, Json, Timeout,
        };
        command.SetAction((parse, ct) => RunAsync(parse, "nat", async (token, _) =>
        {
            var result = await NatProbe.RunAsync(parse.GetValue(endpoint)!, parse.GetValue(Timeout), parse.GetValue(dscp), token);
            return parse.GetValue(Json) ? ProbeJson.Nat(result) : ProbeText.Nat(result);
        }));
        return command;
    }

    private static Command Idle()
    {
        var endpoint = CliOptions.ProbeEndpointArgument();
        var max = CliOptions.Duration("--max", "Longest idle period to try. Default 15m. The probe takes up to about twice this.", TimeSpan.FromMinutes(15));
        var grace = CliOptions.Duration("--grace", "How long an answer may take after an idle period before the flow counts as lost. Default 2s.", TimeSpan.FromSeconds(2));
        var noUdp = new Option<bool>("--no-udp") { Description = "Check TCP only." };
        var noTcp = new Option<bool>("--no-tcp") { Description = "Check the UDP mapping only." };
        var command = new Command("idle", "Find how long idle TCP connections (both directions) and UDP mappings survive on the path.")
        {
            endpoint, max, grace, noUdp, noTcp, Json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var problem = parse.GetValue(max) < TimeSpan.FromSeconds(1) ? "--max must be at least 1s"
                : parse.GetValue(noUdp) && parse.GetValue(noTcp) ? "--no-udp and --no-tcp leave nothing to check"
                : null;
            if (problem is not null)
            {
                await Console.Error.WriteLineAsync($"echokit probe idle: {problem} (see 'echokit probe idle --help')");
                return ExitCodes.Usage;
            }
            return await RunIdleAsync(parse, endpoint, max, grace, noUdp, noTcp);
        });
        return command;
    }

    private static Task<int> RunIdleAsync(ParseResult parse, Argument<EndpointSpec> endpoint, Option<TimeSpan> max, Option<TimeSpan> grace, Option<bool> noUdp, Option<bool> noTcp)
        => RunAsync(parse, "idle", async (token, stdout) =>
        {
            var options = new IdleProbeOptions { Max = parse.GetValue(max), Grace = parse.GetValue(grace), Udp = !parse.GetValue(noUdp), Tcp = !parse.GetValue(noTcp) };
            var json = parse.GetValue(Json);
            // Progress goes to stderr with --json (stdout holds the document), to stdout otherwise.
            var progress = new SynchronousProgress(line => (json ? Console.Error : stdout).WriteLine(line));
            var result = await IdleProbe.RunAsync(parse.GetValue(endpoint)!, options, progress, token);
            return json ? ProbeJson.Idle(result) : ProbeText.Idle(result);
        });

    private static Command Mtu()
    {
        var endpoint = CliOptions.ProbeEndpointArgument();
        var timeout = CliOptions.Duration("--timeout", "How long to wait for the answer to each burst of datagrams (two bursts of 12 per size). Default 500ms.", TimeSpan.FromMilliseconds(500));
        var command = new Command("mtu", "Find the largest UDP payload that makes the round trip with DF set, and whether the path MTU is discovered or a black hole.")
        {
            endpoint, timeout, Json,
        };
        command.SetAction((parse, ct) => RunAsync(parse, "mtu", async (token, _) =>
        {
            var result = await MtuProbe.RunAsync(parse.GetValue(endpoint)!, parse.GetValue(timeout), null, token);
            return parse.GetValue(Json) ? ProbeJson.Mtu(result) : ProbeText.Mtu(result);
        }));
        return command;
    }

    private static Command Lb()
    {
        var endpoint = CliOptions.ProbeEndpointArgument();
        var count = CliOptions.Int("-n", "Connections (or UDP flows) to open. Default 20.", 20, 1, 100_000);
        var udp = new Option<bool>("--udp") { Description = "Send datagrams (one new socket per try) instead of opening TCP connections." };
        var command = new Command("lb", "Count which instance answers each of N connections: the balancer's distribution and stickiness.")
        {
            endpoint, count, udp, Json, Timeout,
        };
        command.SetAction((parse, ct) => RunAsync(parse, "lb", async (token, _) =>
        {
            var result = await LbProbe.RunAsync(parse.GetValue(endpoint)!, parse.GetValue(count), parse.GetValue(udp), parse.GetValue(Timeout), token);
            return parse.GetValue(Json) ? ProbeJson.Lb(result) : ProbeText.Lb(result);
        }));
        return command;
    }

    /// <summary>
    /// Runs a probe and prints its report. The probe gets standard output for its progress lines (probe idle's run for
    /// up to twice --max): when nobody reads them any more (| head), the probe stops and exits 141, as ping does.
    /// </summary>
    private static async Task<int> RunAsync(ParseResult parse, string name, Func<CancellationToken, TextWriter, Task<string>> probe)
    {
        using var signals = new ShutdownSignals();
        using var stdout = ReaderAwareWriter.OpenStandardOutput();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(signals.RequestedToken, stdout.ReaderGone);
        try
        {
            var output = await probe(stop.Token, TextWriter.Synchronized(stdout));
            await stdout.WriteAsync(output);
            return stdout.ReaderGone.IsCancellationRequested ? stdout.ExitCodeWhenGone() : ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (stdout.ReaderGone.IsCancellationRequested)
        {
            return stdout.ExitCodeWhenGone();
        }
        catch (ProbeException ex)
        {
            await Console.Error.WriteLineAsync($"echokit probe {name}: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (signals.RequestedToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"echokit probe {name}: interrupted");
            return signals.ExitCode; // 130 or 143, as send, connect and bench
        }
    }

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool and could reorder lines).</summary>
    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        private readonly Lock _gate = new();

        public void Report(string value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
