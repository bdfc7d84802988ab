using System.CommandLine;
using System.Net.Sockets;
using EchoKit.Bench;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Cli.Parsing.Assertions;
using EchoKit.Client;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit bench</c>: loads an echo server (any, not only ours) and reports throughput, latency percentiles,
/// errors by reason and mismatched bytes; exit 1 when anything went wrong. <c>echokit bench merge</c> adds results.
/// </summary>
internal static class BenchCommand
{
    private static readonly Argument<ClientTarget?> Endpoint = CliOptions.TargetArgument(
        CliOptions.EndpointArgument().Description + " A path (with a '/', or unix:PATH) is a Unix socket, as with --unix.");
    private static readonly Option<int> Connections = CliOptions.Int("--connections", "TCP connections (UDP sockets; --connect-rate: connects at once). Default 1.", 1, 1, 100_000).WithAlias("-c");
    private static readonly Option<int> Pipeline = CliOptions.Int("--pipeline", "Messages in flight per connection (UDP: unanswered datagrams per socket). Default 1.", 1, 1, 65_536);
    private static readonly Option<int> Size = CliOptions.Size("--size", "Message size: 32, 1k, 64KiB, 1M. Default 32 (UDP: 16 to 65507).", 32, 1, BenchOptions.MaxTcpSize).WithAlias("-l");
    private static readonly Option<TimeSpan> Duration = CliOptions.Duration("--duration", "How long to measure, after the warm-up. Default 10s.", TimeSpan.FromSeconds(10)).WithAlias("-t");
    private static readonly Option<long?> Messages = NumberOptions.OptionalLong("--messages", "Measure until N messages completed (10k, 1M), instead of for a duration.", 1, 1_000_000_000_000).WithAlias("-n");
    private static readonly Option<TimeSpan> Warmup = CliOptions.Duration("--warmup", "Load before measuring, not counted. Default 1s; 0 for none.", TimeSpan.FromSeconds(1), allowZero: true);
    private static readonly Option<double?> Rate = NumberOptions.OptionalRate("--rate", "Constant total rate, messages/s (500, 2.5k, 10k, 1M); latency from each message's intended send time (coordinated omission corrected).", 1e9);
    private static readonly Option<bool> Udp = new("--udp") { Description = "UDP datagrams with sequence numbers: reports lost, duplicated and reordered." };
    private static readonly Option<bool> ConnectRate = new("--connect-rate") { Description = "Measure connections per second: connect, echo one message, close." };
    private static readonly Option<int> Workers = CliOptions.Int("--workers", "Worker loops (threads). Default 0: one per core, at most one per connection.", 0, 0, 256);
    private static readonly Option<TimeSpan> ConnectTimeout = ConnectTimeoutOption();
    private static readonly Option<TimeSpan> LossTimeout = CliOptions.Duration("--loss-timeout", "UDP: an unanswered datagram is lost after this. Default 1s.", TimeSpan.FromSeconds(1));
    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object (with the HdrHistogram, for 'bench merge') instead of the table." };
    private static readonly Option<FileInfo?> Report = new("--report") { Description = "Also write a self-contained HTML report (percentile spectrum, throughput and p99 over time).", HelpName = "FILE.html" };
    private static readonly Option<TimeSpan?> Interval = CliOptions.OptionalDuration("--interval", "Print one line per interval (msg/s, MiB/s, p50/p99/max, errors), as iperf3 -i. 100ms to 1m.").WithAlias("-i");
    private static readonly Option<bool> JsonStream = new("--json-stream") { Description = "One JSON object per line as it happens: start (parameters), interval, end (the --json document)." };
    private static readonly Option<AssertionExpression[]> Assert = AssertionOptions.Create(BenchAssertions.Metrics);
    private static readonly Option<TimeSpan?> ConnectionLifetime = CliOptions.OptionalDuration("--connection-lifetime", "Churn: close each connection after this long (once its echoes are back) and connect again.");
    private static readonly Option<long?> MessagesPerConnection = NumberOptions.OptionalLong("--messages-per-connection", "Churn: close each connection after N messages and connect again.", 1, 1_000_000_000_000);
    private static readonly Option<TimeSpan> Ramp = CliOptions.Duration("--ramp", "Open the connections evenly over this time before the warm-up. Default 0: at once.", TimeSpan.Zero, allowZero: true);
    private static readonly Option<string?> Unix = new("--unix", "-U") { Description = "Load the Unix domain stream socket at PATH instead of ENDPOINT.", HelpName = "PATH" };
    private static readonly Option<bool> Tls = new("--tls") { Description = "TLS over each connection (SslStream; see docs/bench.md for its cost), with SNI and certificate validation." };
    private static readonly Option<FileInfo?> Ca = new("--ca") { Description = "With --tls: trust the CA certificate(s) in this PEM file.", HelpName = "FILE" };
    private static readonly Option<bool> Insecure = new("--insecure", "-k") { Description = "With --tls: do not check the server's certificate." };
    private static readonly Option<string?> ServerName = new("--server-name") { Description = "With --tls: the name for SNI and the certificate check. Default: the endpoint's host.", HelpName = "NAME" };

    public static Command Create()
    {
        var command = new Command("bench", "Load an echo server and measure it: throughput, latency percentiles, errors, every echoed byte checked.")
        {
            Endpoint, Connections, Pipeline, Size, Duration, Messages, Warmup, Rate, Udp, ConnectRate, Workers,
            ConnectTimeout, LossTimeout, Json, Report, Interval, JsonStream, Assert,
            ConnectionLifetime, MessagesPerConnection, Ramp, Unix, Tls, Ca, Insecure, ServerName,
            BenchMergeCommand.Create(),
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var options = BuildOptions(parse);
        var json = parse.GetValue(Json);
        var stream = parse.GetValue(JsonStream);
        var interval = parse.GetValue(Interval);
        var assertions = parse.GetValue(Assert) ?? [];
        var report = parse.GetValue(Report);
        if (json && stream)
        {
            throw new UsageException("give either --json or --json-stream, not both");
        }
        if (json && interval is not null)
        {
            throw new UsageException("--interval prints lines, not JSON: use --json-stream for intervals in JSON");
        }
        if (assertions.FirstOrDefault(a => a.Metric.Name == "loss") is { } loss && options.Mode != BenchMode.Udp)
        {
            throw new UsageException($"--assert '{loss.Text}': loss applies to --udp only");
        }
        if (parse.GetValue(Ca) is { } caFile)
        {
            options.Tls!.TrustedRoots = ClientOptionSet.LoadCa(caFile);
        }

        // Interval lines and the JSON stream: when nobody reads them any more (| head -3), the run stops, as ping does.
        using var progress = ReaderAwareWriter.OpenStandardOutput();
        var progressOut = TextWriter.Synchronized(progress);
        var live = !json && !stream && interval is null && BenchLiveLine.IsWanted ? new BenchLiveLine(Console.Out) : null;
        var lines = interval is not null && !stream ? new BenchIntervalLine(progressOut) : null;
        Action<BenchSample>? onSample = stream ? sample =>
        {
            if (!sample.IsWarmup && sample.Seconds > 0)
            {
                progressOut.WriteLine(BenchJson.IntervalEvent(sample));
            }
        } : lines is not null ? lines.Show : live is not null ? live.Show : null;
        Action<BenchParameters>? onStart = stream ? parameters => progressOut.WriteLine(BenchJson.StartEvent(parameters)) : null;
        using var signals = new ShutdownSignals();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(signals.RequestedToken, progress.ReaderGone);
        BenchResult result;
        var target = options.UnixPath is { } path ? $"unix:{path}" : options.Endpoint!.Text;
        try
        {
            result = await BenchRunner.RunAsync(options, onStart, onSample, loggerFactory: null, stop.Token);
        }
        catch (BenchConnectException ex)
        {
            live?.Clear();
            // "cannot connect to ADDRESS: reason"; a name is given too when the address it resolved to does not show it.
            await Console.Error.WriteLineAsync(ex.Address == target || options.UnixPath is not null
                ? $"echokit bench: {ex.Message}"
                : $"echokit bench: {target}: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (SocketException ex)
        {
            live?.Clear();
            await Console.Error.WriteLineAsync($"echokit bench: cannot resolve {options.Endpoint?.Host ?? target}: {ClientErrors.Describe(ex.SocketErrorCode).Message}");
            return ExitCodes.Failure;
        }
        catch (PlatformNotSupportedException ex)
        {
            live?.Clear();
            await Console.Error.WriteLineAsync($"echokit: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (signals.RequestedToken.IsCancellationRequested)
        {
            // Interrupted before the load started (while proving the target answers).
            await Console.Error.WriteLineAsync("echokit: interrupted");
            return signals.ExitCode;
        }
        if (progress.ReaderGone.IsCancellationRequested)
        {
            return progress.ExitCodeWhenGone();
        }
        live?.Clear();
        return await BenchOutput.WriteAsync(result, stream ? BenchOutputFormat.JsonStream : json ? BenchOutputFormat.Json : BenchOutputFormat.Table, report, assertions, signals.ExitCode);
    }

    private static BenchOptions BuildOptions(ParseResult parse)
    {
        var target = parse.GetValue(Endpoint);
        // udp:// and tls:// (as serve prints them) stand for --udp and --tls.
        var (udp, tls) = ClientTarget.WithFlags(target, parse.GetValue(Udp), parse.GetValue(Tls));
        var connectRate = parse.GetValue(ConnectRate);
        var messages = parse.GetValue(Messages);
        var rate = parse.GetValue(Rate);
        if (udp && connectRate)
        {
            throw new UsageException("give either --udp or --connect-rate, not both");
        }
        if (messages is not null && parse.GetResult(Duration) is { Implicit: false })
        {
            throw new UsageException("give either --duration or --messages, not both");
        }
        if (rate is not null && (udp || connectRate))
        {
            throw new UsageException("--rate applies to TCP message load only (not --udp or --connect-rate)");
        }
        var (endpoint, unix) = CliOptions.TargetOf(target, parse.GetValue(Unix));
        var insecure = parse.GetValue(Insecure);
        var serverName = parse.GetValue(ServerName);
        var ca = parse.GetValue(Ca);
        if (!tls && (ca is not null || insecure || serverName is not null))
        {
            throw new UsageException($"{(ca is not null ? "--ca" : insecure ? "--insecure" : "--server-name")} needs --tls");
        }
        if (ca is not null && insecure)
        {
            throw new UsageException("give either --ca or --insecure, not both");
        }
        var lifetime = parse.GetValue(ConnectionLifetime);
        var perConnection = parse.GetValue(MessagesPerConnection);
        var ramp = parse.GetValue(Ramp);
        if ((lifetime is not null || perConnection is not null || ramp > TimeSpan.Zero) && (udp || connectRate))
        {
            throw new UsageException($"{(lifetime is not null ? "--connection-lifetime" : perConnection is not null ? "--messages-per-connection" : "--ramp")} applies to TCP message load only (not --udp or --connect-rate)");
        }
        var options = new BenchOptions
        {
            Endpoint = endpoint,
            UnixPath = unix,
            Tls = tls ? new ConnectTlsOptions { SkipValidation = insecure, ServerName = serverName } : null,
            ConnectionLifetime = lifetime,
            MessagesPerConnection = perConnection,
            Ramp = ramp,
            SampleInterval = parse.GetValue(Interval) ?? TimeSpan.FromSeconds(1),
            Mode = udp ? BenchMode.Udp : connectRate ? BenchMode.ConnectRate : BenchMode.Tcp,
            Connections = parse.GetValue(Connections),
            Pipeline = parse.GetValue(Pipeline),
            Size = parse.GetValue(Size),
            Duration = parse.GetValue(Duration),
            Messages = messages,
            Warmup = parse.GetValue(Warmup),
            Rate = rate,
            Workers = parse.GetValue(Workers),
            ConnectTimeout = parse.GetValue(ConnectTimeout),
            LossTimeout = parse.GetValue(LossTimeout),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            // Bounds that depend on the mode (UDP sizes, the endpoint's port) are checked here, after parsing.
            throw new UsageException(ex.Message.Split(" (Parameter")[0]);
        }
        return options;
    }

    private static Option<TimeSpan> ConnectTimeoutOption()
    {
        var option = CliOptions.Duration("--connect-timeout", "Give up at once (exit 1, saying refused, timed out or unreachable) when no connection is made within this. Default 5s.", TimeSpan.FromSeconds(5));
        option.Aliases.Add("--timeout");
        return option;
    }
}
