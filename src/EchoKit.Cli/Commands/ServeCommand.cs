using System.CommandLine;
using EchoKit.Cli.Configuration;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Observability;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using EchoKit.Server;
using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Commands;

/// <summary><c>echokit serve</c>: runs the echo server until SIGINT, SIGTERM or SIGHUP.</summary>
internal static class ServeCommand
{
    private static readonly Option<EndpointSpec[]> Tcp = CliOptions.Endpoints("--tcp",
        "Listen for TCP on ENDPOINT (PORT, :PORT, HOST:PORT, [IPv6]:PORT; repeatable). With no listener flag at all: :50007, all interfaces, IPv4 and IPv6.");
    private static readonly Option<int> Backlog = CliOptions.Int("--backlog", "Listen backlog: connections the OS queues before accept. Default 512.", 512, 1, 65535);
    private static readonly Option<int> BufferSize = CliOptions.Size("--buffer-size", "Bytes read from a client at a time (a bulk transfer's reads grow to 4x), and so the most held for a client not reading its echo (back-pressure). Default 64KiB.", 64 * 1024, 1024, 16 * 1024 * 1024);
    private static readonly Option<TimeSpan> ShutdownTimeout = CliOptions.Duration("--shutdown-timeout",
        "On SIGINT/SIGTERM/SIGHUP, how long open connections may go on before they are closed. Default 30s.", TimeSpan.FromSeconds(30), allowZero: true);
    private static readonly Option<DumpMode> Dump = new("--dump")
    {
        Description = "Also print what each client sends: text or hex.",
        HelpName = "text|hex",
        CustomParser = result => result.Tokens[^1].Value.ToLowerInvariant() switch
        {
            "text" => DumpMode.Text,
            "hex" => DumpMode.Hex,
            "none" => DumpMode.None,
            var other => Fail(result, $"invalid value '{other}' for --dump: expected text or hex"),
        },
    };
    private static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only listening lines and errors." };
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Also print debug events (resets, accept details)." };
    private static readonly Option<LogFormat> Format = new("--log-format")
    {
        Description = "Event format: text or json (one object per line). Default text.",
        HelpName = "text|json",
        DefaultValueFactory = _ => LogFormat.Text,
        CustomParser = result => result.Tokens[^1].Value.ToLowerInvariant() switch
        {
            "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            var other => Fail<LogFormat>(result, $"invalid value '{other}' for --log-format: expected text or json"),
        },
    };

    private static readonly Option<EndpointSpec[]> Metrics = CliOptions.Endpoints("--metrics",
        "Serve HTTP on ENDPOINT (repeatable): /metrics (Prometheus), /healthz, /readyz. Port 0 picks a free port, printed as 'listening http://...'.");

    public static Command Create()
    {
        var command = new Command("serve", "Run the echo server: every byte each client sends goes back, in order.")
        {
            Tcp, Backlog, BufferSize, ShutdownTimeout, Dump, Quiet, Verbose, Format, Metrics,
            ConfigOptions.Config, ConfigOptions.PrintConfig,
        };
        ServeProductionOptions.AddTo(command);
        UdpServeOptions.AddTo(command);
        ReflectServeOptions.AddTo(command);
        command.Options.Add(OtlpOption.Otlp);
        command.SetAction((parse, _) => RunAsync(parse));
        ConfigOptions.ValidateWith(command, parse => DescribeEngines(BuildOptions(parse)));
        return command;
    }

    /// <summary>The server's options from the parse; throws <see cref="UsageException"/> (exit 2) for bad combinations.</summary>
    private static EchoServerOptions BuildOptions(ParseResult parse)
    {
        if (parse.GetValue(Quiet) && parse.GetValue(Verbose))
        {
            throw new UsageException("give either --quiet or --verbose, not both");
        }
        var options = new EchoServerOptions
        {
            Backlog = parse.GetValue(Backlog),
            ReceiveBufferSize = parse.GetValue(BufferSize),
            ShutdownTimeout = parse.GetValue(ShutdownTimeout),
            Dump = parse.GetValue(Dump),
        };
        foreach (var endpoint in parse.GetValue(Tcp) ?? [])
        {
            options.Endpoints.Add(new ListenEndpoint(ListenProtocol.Tcp, endpoint));
        }
        UdpServeOptions.Apply(parse, options);
        ReflectServeOptions.Apply(parse, options);
        ServeProductionOptions.Apply(parse, options); // last: --proxy-protocol must know every other listener
        if (options.Endpoints.Count == 0 && !options.Reflect.HasEndpoints)
        {
            // The program's default, :50007 on every interface; the library's own default is loopback, port 0.
            options.Endpoints.Add(ListenEndpoint.Tcp($":{EchoServerOptions.DefaultPort}"));
        }
        // Checked once every listener is known: a rule such as "--engine epoll needs a TCP or Unix listener" must
        // see the UDP ones too.
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Split(" (Parameter", 2)[0]);
        }
        return options;
    }

    /// <summary>
    /// For --print-config: which engine each stream listener would be served by, which the configuration itself
    /// leaves to <c>--engine auto</c> and the machine.
    /// </summary>
    private static IReadOnlyList<string> DescribeEngines(EchoServerOptions options) =>
        options.Endpoints
            .Select(e => (Endpoint: e, Engine: options.EngineFor(e.Protocol)))
            .Where(x => x.Engine is not null)
            .Select(x => $"{x.Endpoint.Protocol.ToString().ToLowerInvariant()} {x.Endpoint.Endpoint}: " + (x.Engine == ServerEngine.Epoll
                ? $"epoll engine, {options.EventLoopCount} event loop(s)"
                : x.Endpoint.Protocol == ListenProtocol.Tls ? "sockets engine (TLS is always served by System.Net.Sockets)" : "sockets engine"))
            .ToList();

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var options = BuildOptions(parse);
        var level = parse.GetValue(Quiet) ? LogLevel.Error : parse.GetValue(Verbose) ? LogLevel.Debug : LogLevel.Information;
        var format = parse.GetValue(Format);
        // The server's events and dumps are written from I/O threads, which must never wait for stdout: when it is not
        // read fast enough, lines are dropped and counted rather than stopping every echo (docs/operations.md, Logs).
        using var sink = new OutputSink(new OutputSinkOptions { DroppedNotice = count => LineLoggerFactory.DroppedLinesNotice(format, count) });
        using var outputMetrics = new OutputMetrics(sink);
        var logs = new LineLoggerFactory(sink, format, level);
        using var signals = new ShutdownSignals(hangup: true);

        await using var server = new EchoServer(options, logs);
        await using var metrics = new MetricsHost(() => server.IsReady, logs);
        using var otlp = OtlpMetricsExporter.Start(parse.GetValue(OtlpOption.Otlp));
        try
        {
            await metrics.StartAsync(parse.GetValue(Metrics) ?? [], signals.RequestedToken);
            await server.StartAsync(signals.RequestedToken);
        }
        catch (ListenerBindException ex)
        {
            logs.Write(LogLevel.Error, "ListenFailed", ex.Message, ("Listener", ex.Address), ("SocketError", ex.SocketError.ToString()));
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok; // stopped by a signal before we were up
        }

        foreach (var listener in server.Listeners)
        {
            // Always printed, even with --quiet: scripts wait for this line to learn the bound port.
            logs.Write(LogLevel.Information, "Listening", $"listening {listener.Uri}", ("Listener", listener.Uri), ("Port", listener.Port));
        }

        await signals.Requested;
        await server.StopAsync(signals.Immediate);
        // A clean drain is a success; a second signal that cut it short says so, as 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP).
        return signals.Immediate.IsCancellationRequested ? signals.ForcedExitCode : ExitCodes.Ok;
    }

    private static T Fail<T>(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return default!;
    }

    private static DumpMode Fail(System.CommandLine.Parsing.ArgumentResult result, string message) => Fail<DumpMode>(result, message);
}
