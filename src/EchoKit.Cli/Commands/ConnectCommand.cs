using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Client;
using EchoKit.Endpoints;
using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit connect</c>: talk to a server by hand, as with nc, ncat or telnet. Standard input goes to the server
/// and what the server sends goes to standard output, at the same time; events (-v) and errors go to stderr, so
/// stdout carries only what the server sent.
/// </summary>
internal static class ConnectCommand
{
    private static readonly ClientOptionSet Client = new();
    private static readonly Option<bool> Udp = new("--udp", "-u") { Description = "UDP: each line of input is one datagram; each datagram received is printed." };
    private static readonly Option<bool> Crlf = new("--crlf", "-C") { Description = "Send line ends as CRLF, as SMTP, POP3, IMAP, HTTP and FTP require." };
    private static readonly Option<bool> Hex = new("--hex") { Description = "Print what arrives as a hex dump (offset, hex, ASCII)." };
    private static readonly Option<bool> Raw = new("--raw")
    {
        Description = "On a terminal too, write what arrives as it is, escape sequences included. Default: a terminal gets control bytes shown escaped (\\x1b); pipes and files always get the bytes as they are.",
    };
    private static readonly Option<Encoding?> TextEncoding = RawByDefault(CliOptions.EncodingOption());
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "On stderr: local and peer address, time to connect, TLS details, bytes each way at the end." };
    private static readonly Option<TimeSpan> Wait = CliOptions.WithAlias(CliOptions.Duration("--wait", "Connect timeout (with the TLS handshake), as nc -w. Default 10s.", TimeSpan.FromSeconds(10)), "-w");
    private static readonly Option<TimeSpan?> IdleTimeout = CliOptions.WithAlias(CliOptions.OptionalDuration("--idle-timeout",
        "Give up (exit 1) when nothing moves either way for DURATION. Default: wait for ever."), "-i");
    private static readonly Option<TimeSpan> Timeout = CliOptions.Duration("--timeout",
        "With --udp: after input ends, wait until no datagram has come for DURATION. Default 2s.", TimeSpan.FromSeconds(2), allowZero: true);
    private static readonly Option<bool> NoShutdown = new("--no-shutdown") { Description = "At the end of input, do not half-close (no FIN); keep printing until the peer closes." };

    public static Command Create()
    {
        var command = new Command("connect", "Talk to a server by hand: stdin to the server, the server to stdout, both at once (like nc/ncat).");
        Client.AddArgumentTo(command);
        foreach (var option in new Option[] { Udp, Crlf, Hex, Raw, TextEncoding, Verbose, Wait, IdleTimeout, Timeout, NoShutdown })
        {
            command.Options.Add(option);
        }
        Client.AddOptionsTo(command, tls: true);
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var target = parse.GetValue(Client.Target)!;
        var endpoint = target.Endpoint;
        var options = BuildOptions(parse, target);
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Split(" (Parameter", 2)[0]);
        }

        ConnectResult? result = null;
        var exitCode = 130;
        // Events go to stderr through the sink (stdout carries only what the server sent); the sink is disposed,
        // which writes every queued event, before the verdict line, so that line is always last. Lossless: the events
        // come from this one session, which may wait for a slow stderr; a lost TLS detail or warning would mislead.
        var sink = new OutputSink(OutputSinkOptions.Lossless, Console.Error, Console.Error);
        try
        {
            var logs = new LineLoggerFactory(sink, LogFormat.Text, parse.GetValue(Verbose) ? LogLevel.Debug : LogLevel.Warning);
            using var signals = new ShutdownSignals();
            await using var stdin = StandardInput.OpenRaw();
            await using var stdout = StandardOutput.Open();
            try
            {
                result = await InteractiveClient.RunAsync(endpoint, stdin, stdout, options, logs, TimeProvider.System, signals.RequestedToken);
            }
            catch (OperationCanceledException) when (signals.RequestedToken.IsCancellationRequested)
            {
                exitCode = signals.ExitCode;
                // Ctrl+C: the session closed the connection; report below, after the events.
            }
        }
        finally
        {
            sink.Dispose();
        }

        if (result is null)
        {
            // On a terminal the ^C is echoed mid-line: start the message on a line of its own.
            await Console.Error.WriteLineAsync(Console.IsErrorRedirected ? "echokit: interrupted" : "\nechokit: interrupted");
            return exitCode;
        }
        if (!result.Success)
        {
            await Console.Error.WriteLineAsync(ClientFailure.Line(endpoint.ToString()!, result.Message));
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }

    private static ConnectOptions BuildOptions(ParseResult parse, ClientTarget target)
    {
        var (udp, tlsOptions) = Client.BuildProtocol(parse, Udp, target);
        var transport = Client.BuildTransport(parse, target);
        var tls = tlsOptions is not null;
        var hex = parse.GetValue(Hex);
        var encoding = parse.GetValue(TextEncoding);
        if (udp && target.UnixPath is not null)
        {
            throw new UsageException("--udp cannot go over a Unix socket (Unix listeners are stream sockets)");
        }
        if (udp && tls)
        {
            throw new UsageException("--tls works over TCP only (DTLS is not supported)");
        }
        if (hex && encoding is not null)
        {
            throw new UsageException("give either --hex or --encoding, not both");
        }
        var raw = parse.GetValue(Raw);
        if (hex && raw)
        {
            throw new UsageException("give either --hex or --raw, not both");
        }
        if (!udp && parse.GetResult(Timeout) is { Implicit: false })
        {
            throw new UsageException("--timeout is for --udp (the wait for replies after input ends); use --idle-timeout for TCP");
        }
        if (udp && parse.GetValue(NoShutdown))
        {
            throw new UsageException("--no-shutdown is for TCP (UDP has no connection to half-close)");
        }
        return new ConnectOptions
        {
            Udp = udp,
            Tls = tlsOptions,
            Transport = transport,
            Crlf = parse.GetValue(Crlf),
            HexDump = hex,
            Encoding = encoding,
            // A server's escape sequences must not reach a terminal as commands (docs/connect.md).
            EscapeControls = !raw && !Console.IsOutputRedirected,
            HalfClose = !parse.GetValue(NoShutdown),
            ConnectTimeout = AtMost(parse.GetValue(Wait), TimeSpan.FromHours(1), "--wait"),
            IdleTimeout = parse.GetValue(IdleTimeout) is { } idle ? AtMost(idle, TimeSpan.FromDays(1), "--idle-timeout") : null,
            ReplyTimeout = AtMost(parse.GetValue(Timeout), TimeSpan.FromHours(1), "--timeout"),
        };
    }

    /// <summary>The shared --encoding option, except that without it bytes pass through untouched (nc's behaviour).</summary>
    private static Option<Encoding?> RawByDefault(Option<Encoding> option)
    {
        option.Description = "Text encoding of the conversation (utf-8, gbk, latin1, ...): input is sent in it, replies are decoded from it. Default: bytes pass through untouched.";
        option.DefaultValueFactory = null;
        return option!;
    }

    private static TimeSpan AtMost(TimeSpan value, TimeSpan max, string option) =>
        value <= max ? value : throw new UsageException($"{option} must be at most {ClientErrors.FormatDuration(max)}");
}
