using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Cli.Parsing.Assertions;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Ping;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit ping</c>: tcping, psping and ping in one. A probe per interval on a fixed schedule (echo over one
/// connection, a connect handshake, or a UDP datagram), a line per probe, down/up transitions with the outage's
/// length, and a summary with loss, percentiles, jitter and up/down time. Exit 0 only when every probe was answered.
/// </summary>
internal static class PingCommand
{
    private static readonly AssertionMetricSet Metrics = new(
    [
        new AssertionMetric("loss", AssertionUnit.Percent, "probes not answered"),
        new AssertionMetric("p50", AssertionUnit.Duration, "median round trip"),
        new AssertionMetric("p90", AssertionUnit.Duration, "90th percentile round trip"),
        new AssertionMetric("p99", AssertionUnit.Duration, "99th percentile round trip"),
        new AssertionMetric("avg", AssertionUnit.Duration, "mean round trip"),
        new AssertionMetric("min", AssertionUnit.Duration, "fastest round trip"),
        new AssertionMetric("max", AssertionUnit.Duration, "slowest round trip"),
        new AssertionMetric("mdev", AssertionUnit.Duration, "standard deviation of round trips"),
        new AssertionMetric("jitter", AssertionUnit.Duration, "mean difference of consecutive round trips"),
        new AssertionMetric("sent", AssertionUnit.Count, "probes sent"),
        new AssertionMetric("received", AssertionUnit.Count, "probes answered"),
        new AssertionMetric("timeouts", AssertionUnit.Count, "probes timed out"),
        new AssertionMetric("refused", AssertionUnit.Count, "probes refused"),
        new AssertionMetric("errors", AssertionUnit.Count, "probes failed otherwise"),
        new AssertionMetric("mismatches", AssertionUnit.Count, "echoes that differed"),
        new AssertionMetric("duplicates", AssertionUnit.Count, "duplicate answers"),
        new AssertionMetric("late", AssertionUnit.Count, "answers after the timeout"),
        new AssertionMetric("stalled", AssertionUnit.Count, "answers more than an interval (at least 50 ms) late (down time)"),
        new AssertionMetric("down", AssertionUnit.Duration, "total time down"),
        new AssertionMetric("longest_outage", AssertionUnit.Duration, "longest outage"),
    ],
    ["loss<1%", "p99<5ms", "timeouts=0"]);

    private static readonly Argument<ClientTarget?> Endpoint = CliOptions.TargetArgument(
        "Where the server is: HOST:PORT, [IPv6]:PORT, :PORT or PORT (this machine); PORT may be a service name. A path (with a '/', or unix:PATH) is a Unix socket, as with --unix.");
    private static readonly Option<long?> Count = CliOptions.WithAlias(NumberOptions.OptionalLong("--count", "Probes to send. Default: until Ctrl+C or --deadline.", 1, long.MaxValue), "-c");
    private static readonly Option<TimeSpan> Interval = CliOptions.WithAlias(CliOptions.Duration("--interval", "Time between probes, on a fixed schedule. Default 1s; at least 1ms.", TimeSpan.FromSeconds(1)), "-i");
    private static readonly Option<TimeSpan> Timeout = CliOptions.WithAlias(CliOptions.Duration("--timeout", "Wait per probe for its answer (--connect: for the handshake). Default 1s.", TimeSpan.FromSeconds(1)), "-W");
    private static readonly Option<TimeSpan?> Deadline = CliOptions.OptionalDuration("--deadline", "Stop after DURATION, whatever the count; probes still waiting then are not counted.").WithAlias("-w");
    private static readonly Option<int> Size = CliOptions.WithAlias(CliOptions.Size("--size", $"Bytes per probe, a 16-byte header (run tag, sequence) and a pattern. Default 32 (UDP: at most {EchoKit.Server.UdpOptions.MaxIPv4Datagram}).", 32, PingOptions.MinSize, PingOptions.MaxTcpSize), "-s");
    private static readonly Option<bool> Connect = new("--connect") { Description = "Handshake ping (as tcping, psping): time connect() to any TCP port, send nothing; refused is told apart from a timeout." };
    private static readonly Option<bool> Udp = new("--udp", "-u") { Description = "A UDP datagram per probe: late, duplicate and reordered answers are counted." };
    private static readonly Option<string?> Unix = new("--unix", "-U") { Description = "Probe the Unix stream socket at PATH instead of ENDPOINT.", HelpName = "PATH" };
    private static readonly Option<bool> Tls = new("--tls") { Description = "TLS: the handshake, then echo (with --connect: the handshake is timed as part of the probe)." };
    private static readonly Option<FileInfo?> Ca = new("--ca") { Description = "With --tls: trust the CA certificate(s) in this PEM file (a private CA or a self-signed server).", HelpName = "FILE" };
    private static readonly Option<bool> Insecure = new("--insecure", "-k") { Description = "With --tls: do not check the server's certificate." };
    private static readonly Option<string?> ServerName = new("--server-name") { Description = "With --tls: the name for SNI and the certificate check. Default: the endpoint's host.", HelpName = "NAME" };
    private static readonly Option<bool> Ipv4 = new("-4") { Description = "Use IPv4 only." };
    private static readonly Option<bool> Ipv6 = new("-6") { Description = "Use IPv6 only." };
    private static readonly Option<string?> Source = new("--source") { Description = "Send from this local address (and port).", HelpName = "ADDR[:PORT]" };
    private static readonly Option<bool> ResolveEach = new("--resolve-each") { Description = "Look the name up again before every probe (DNS failover, GSLB)." };
    private static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only the summary." };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the summary as one JSON document, nothing else." };
    private static readonly Option<bool> JsonStream = new("--json-stream") { Description = "Print a JSON object per probe, then one with the summary." };
    private static readonly Option<AssertionExpression[]> Assert = AssertionOptions.Create(Metrics);

    public static Command Create()
    {
        var command = new Command("ping", "Probe a server on a schedule (echo, --connect handshake or --udp): a line per probe, outages, loss, percentiles, jitter.")
        {
            Endpoint, Count, Interval, Timeout, Deadline, Size, Connect, Udp, Unix, Tls, Ca, Insecure, ServerName, Ipv4, Ipv6, Source,
            ResolveEach, Quiet, Json, JsonStream, Assert,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var options = BuildOptions(parse);
        var assertions = parse.GetValue(Assert) ?? [];
        var mode = parse.GetValue(Json) ? PingOutputMode.Json
            : parse.GetValue(JsonStream) ? PingOutputMode.JsonStream
            : parse.GetValue(Quiet) ? PingOutputMode.Quiet
            : PingOutputMode.Text;
        var target = options.UnixPath ?? options.Endpoint!.Text;
        var named = options.Endpoint is { Host: { } host } && !IPAddress.TryParse(host, out _);
        // A ping runs until stopped: when nobody reads its lines any more (| head -3), it stops, as C's ping does.
        using var stdout = ReaderAwareWriter.OpenStandardOutput();
        var output = TextWriter.Synchronized(stdout);
        var session = new PingSession(options, new PingConsoleObserver(output, mode, Header(options, target), options.Endpoint?.Host ?? target, named));

        PingSummary summary;
        using (var signals = new ShutdownSignals())
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(signals.RequestedToken, stdout.ReaderGone))
        using (new PingInterimTriggers(() => Console.Error.Write(PingText.Summary(session.Snapshot(), "statistics so far"))))
        {
            try
            {
                await PingWarmUp.RunAsync(options, stop.Token);
                summary = await session.RunAsync(stop.Token);
            }
            catch (PingTargetException ex)
            {
                await Console.Error.WriteLineAsync($"echokit ping: {ex.Message}");
                return ExitCodes.Usage;
            }
        }

        if (stdout.ReaderGone.IsCancellationRequested)
        {
            return stdout.ExitCodeWhenGone();
        }
        switch (mode)
        {
            case PingOutputMode.Json:
                await output.WriteLineAsync(PingJson.Summary(summary, indented: true));
                break;
            case PingOutputMode.JsonStream:
                await output.WriteLineAsync(PingJson.EndEvent(summary));
                break;
            default:
                await output.WriteAsync((mode == PingOutputMode.Text ? "\n" : "") + PingText.Summary(summary, "statistics"));
                break;
        }
        await output.FlushAsync();
        // As bench does: assertion results follow the summary on stdout, or go to stderr when stdout is JSON.
        var assertionsOut = mode is PingOutputMode.Json or PingOutputMode.JsonStream ? Console.Error : output;
        return await VerdictAsync(summary, assertions, assertionsOut);
    }

    /// <summary>
    /// 3 when an assertion was breached; 1 when an echo did not match; with assertions that held, 0 (they say what
    /// loss is acceptable); otherwise 0 only when every probe was answered.
    /// </summary>
    private static async Task<int> VerdictAsync(PingSummary summary, AssertionExpression[] assertions, TextWriter assertionsOut)
    {
        var outcomes = AssertionExpression.EvaluateAll(assertions, metric => Value(summary, metric.Name));
        foreach (var outcome in outcomes)
        {
            await assertionsOut.WriteLineAsync(outcome.Describe());
        }
        await assertionsOut.FlushAsync();
        if (outcomes.Any(o => !o.Passed))
        {
            await Console.Error.WriteLineAsync($"echokit ping: {summary.Target}: {outcomes.Count(o => !o.Passed)} of {outcomes.Count} assertion(s) failed");
            return ExitCodes.AssertionFailed;
        }
        if (summary.Mismatches > 0)
        {
            return ExitCodes.Failure;
        }
        return outcomes.Count > 0 || summary.AllAnswered ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>A metric's value in its base unit (seconds, percent, count); null when there is no data.</summary>
    internal static double? Value(PingSummary s, string metric) => metric.ToLowerInvariant() switch
    {
        "loss" => s.Sent == 0 ? null : s.LossPercent,
        "p50" => s.P50Ms / 1000,
        "p90" => s.P90Ms / 1000,
        "p99" => s.P99Ms / 1000,
        "avg" => s.AvgMs / 1000,
        "min" => s.MinMs / 1000,
        "max" => s.MaxMs / 1000,
        "mdev" => s.MdevMs / 1000,
        "jitter" => s.JitterMs / 1000,
        "sent" => s.Sent,
        "received" => s.Received,
        "timeouts" => s.Timeouts,
        "refused" => s.Refused,
        "errors" => s.Errors,
        "mismatches" => s.Mismatches,
        "duplicates" => s.Duplicates,
        "late" => s.Late,
        "stalled" => s.Stalled,
        "down" => s.Down.TotalSeconds,
        "longest_outage" => s.LongestOutage.TotalSeconds,
        _ => null,
    };

    private static string Header(PingOptions options, string target)
    {
        var what = options.Mode switch
        {
            PingMode.Connect => options.Tls is null ? "connect" : "connect + TLS handshake",
            PingMode.Udp => $"udp, {options.Size} bytes",
            _ => $"echo over {(options.UnixPath is not null ? "unix" : "tcp")}{(options.Tls is null ? "" : " + TLS")}, {options.Size} bytes",
        };
        return $"PING {target}: {what}, every {ClientErrors.FormatDuration(options.Interval)}, timeout {ClientErrors.FormatDuration(options.Timeout)}";
    }

    private static PingOptions BuildOptions(ParseResult parse)
    {
        var target = parse.GetValue(Endpoint);
        var (endpoint, unix) = CliOptions.TargetOf(target, parse.GetValue(Unix));
        var connect = parse.GetValue(Connect);
        // udp:// and tls:// (as serve prints them) stand for --udp and --tls.
        var (udp, tls) = ClientTarget.WithFlags(target, parse.GetValue(Udp), parse.GetValue(Tls));
        var ca = parse.GetValue(Ca);
        var insecure = parse.GetValue(Insecure);
        var serverName = parse.GetValue(ServerName);
        var ipv4 = parse.GetValue(Ipv4);
        var ipv6 = parse.GetValue(Ipv6);
        if (connect && udp)
        {
            throw new UsageException("give either --connect or --udp, not both");
        }
        if (ipv4 && ipv6)
        {
            throw new UsageException("give either -4 or -6, not both");
        }
        if (!tls && (ca is not null || insecure || serverName is not null))
        {
            throw new UsageException($"{(ca is not null ? "--ca" : insecure ? "--insecure" : "--server-name")} needs --tls");
        }
        if (ca is not null && insecure)
        {
            throw new UsageException("give either --ca or --insecure, not both");
        }
        if (connect && parse.GetResult(Size) is { Implicit: false })
        {
            throw new UsageException("--size has no effect with --connect (it sends no data)");
        }
        var outputs = new[] { parse.GetValue(Json), parse.GetValue(JsonStream), parse.GetValue(Quiet) }.Count(b => b);
        if (outputs > 1)
        {
            throw new UsageException("give only one of --json, --json-stream and --quiet");
        }
        var interval = parse.GetValue(Interval);
        if (interval < PingOptions.MinInterval)
        {
            throw new UsageException("--interval must be at least 1ms");
        }
        var options = new PingOptions
        {
            Endpoint = endpoint,
            UnixPath = unix,
            Mode = connect ? PingMode.Connect : udp ? PingMode.Udp : PingMode.Echo,
            Size = parse.GetValue(Size),
            Interval = interval,
            Timeout = parse.GetValue(Timeout),
            Count = parse.GetValue(Count),
            Deadline = parse.GetValue(Deadline),
            ResolveEach = parse.GetValue(ResolveEach),
            AddressFamily = ipv4 ? AddressFamily.InterNetwork : ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.Unspecified,
            Source = parse.GetValue(Source) is { } source ? ParseSource(source) : null,
            Tls = tls ? new ConnectTlsOptions { SkipValidation = insecure, ServerName = serverName } : null,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Split(" (Parameter", 2)[0]);
        }
        if (ca is not null)
        {
            // After every usage check, as send does: a CA file that can't be used is a failed job (exit 1), not a usage error.
            options.Tls!.TrustedRoots = ClientOptionSet.LoadCa(ca);
        }
        return options;
    }

    /// <summary><c>ADDR</c>, <c>ADDR:PORT</c> or <c>[IPv6]:PORT</c>, where ADDR is an IP literal.</summary>
    private static IPEndPoint ParseSource(string text)
    {
        if (IPAddress.TryParse(text, out var address) && (address.AddressFamily == AddressFamily.InterNetworkV6 || !text.Contains(':', StringComparison.Ordinal)))
        {
            return new IPEndPoint(address, 0);
        }
        if (IPAddress.TryParse(text.Trim('[', ']'), out address) && text.StartsWith('['))
        {
            return new IPEndPoint(address, 0);
        }
        if (EndpointParser.TryParse(text, out var endpoint, out _) && endpoint.Host is { } host && IPAddress.TryParse(host, out address))
        {
            return new IPEndPoint(address, endpoint.Port);
        }
        throw new UsageException($"invalid --source '{text}': expected an IP address, ADDR:PORT or [IPv6]:PORT");
    }
}
