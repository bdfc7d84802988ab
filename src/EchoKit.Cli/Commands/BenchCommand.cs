using System.CommandLine;
using System.Net.Sockets;
using EchoKit.Bench;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit bench</c>: loads an echo server (any, not only ours) and reports throughput, latency percentiles,
/// errors by reason and mismatched bytes; exit 1 when anything went wrong. <c>echokit bench merge</c> adds results.
/// </summary>
internal static class BenchCommand
{
    private static readonly Argument<EndpointSpec> Endpoint = CliOptions.EndpointArgument();
    private static readonly Option<int> Connections = CliOptions.Int("--connections", "TCP connections (UDP sockets; --connect-rate: connects at once). Default 1.", 1, 1, 100_000);
    private static readonly Option<int> Pipeline = CliOptions.Int("--pipeline", "Messages in flight per connection (UDP: unanswered datagrams per socket). Default 1.", 1, 1, 65_536);
    private static readonly Option<int> Size = CliOptions.Int("--size", "Message size in bytes. Default 32 (UDP: 16 to 65507).", 32, 1, BenchOptions.MaxTcpSize);
    private static readonly Option<TimeSpan> Duration = CliOptions.Duration("--duration", "How long to measure, after the warm-up. Default 10s.", TimeSpan.FromSeconds(10));
    private static readonly Option<long?> Messages = NumberOptions.OptionalLong("--messages", "Measure until N messages completed, instead of for a duration.", 1, 1_000_000_000_000);
    private static readonly Option<TimeSpan> Warmup = CliOptions.Duration("--warmup", "Load before measuring, not counted. Default 1s; 0 for none.", TimeSpan.FromSeconds(1), allowZero: true);
    private static readonly Option<double?> Rate = NumberOptions.OptionalRate("--rate", "Constant total rate, messages/s; latency from each message's intended send time (coordinated omission corrected).", 1e9);
    private static readonly Option<bool> Udp = new("--udp") { Description = "UDP datagrams with sequence numbers: reports lost, duplicated and reordered." };
    private static readonly Option<bool> ConnectRate = new("--connect-rate") { Description = "Measure connections per second: connect, echo one message, close." };
    private static readonly Option<int> Workers = CliOptions.Int("--workers", "Worker loops (threads). Default 0: one per core, at most one per connection.", 0, 0, 256);
    private static readonly Option<TimeSpan> ConnectTimeout = CliOptions.Duration("--timeout", "Connect timeout. Default 5s.", TimeSpan.FromSeconds(5));
    private static readonly Option<TimeSpan> LossTimeout = CliOptions.Duration("--loss-timeout", "UDP: an unanswered datagram is lost after this. Default 1s.", TimeSpan.FromSeconds(1));
    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object (with the HdrHistogram, for 'bench merge') instead of the table." };
    private static readonly Option<FileInfo?> Report = new("--report") { Description = "Also write a self-contained HTML report (percentile spectrum, throughput and p99 over time).", HelpName = "FILE.html" };

    public static Command Create()
    {
        var command = new Command("bench", "Load an echo server and measure it: throughput, latency percentiles, errors, every echoed byte checked.")
        {
            Endpoint, Connections, Pipeline, Size, Duration, Messages, Warmup, Rate, Udp, ConnectRate, Workers,
            ConnectTimeout, LossTimeout, Json, Report,
            BenchMergeCommand.Create(),
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var options = BuildOptions(parse);
        var json = parse.GetValue(Json);
        var report = parse.GetValue(Report);

        var live = !json && BenchLiveLine.IsWanted ? new BenchLiveLine(Console.Out) : null;
        using var signals = new ShutdownSignals();
        BenchResult result;
        try
        {
            result = await BenchRunner.RunAsync(options, live is null ? null : live.Show, cancellationToken: signals.RequestedToken);
        }
        catch (SocketException ex)
        {
            live?.Clear();
            await Console.Error.WriteLineAsync($"echokit: cannot resolve {options.Endpoint}: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (PlatformNotSupportedException ex)
        {
            live?.Clear();
            await Console.Error.WriteLineAsync($"echokit: {ex.Message}");
            return ExitCodes.Failure;
        }
        live?.Clear();
        return await BenchOutput.WriteAsync(result, json, report);
    }

    private static BenchOptions BuildOptions(ParseResult parse)
    {
        var udp = parse.GetValue(Udp);
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
        var options = new BenchOptions
        {
            Endpoint = parse.GetValue(Endpoint)!,
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
}
