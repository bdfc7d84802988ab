using System.CommandLine;
using System.Text;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Client;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit send</c>: the tutorial's client. Sends a message (default "Hello, world"), a file or standard input,
/// reads the whole echo while sending, prints it, and exits 0 only when it matches.
/// </summary>
internal static class SendCommand
{
    internal const string DefaultMessage = "Hello, world";

    private static readonly ClientOptionSet Client = new();
    private static readonly Argument<string[]> Message = new("MESSAGE")
    {
        Description = $"Text to send (words are joined by spaces). Default \"{DefaultMessage}\", or standard input when it is piped. After --, words that start with '-' are text too.",
        Arity = ArgumentArity.ZeroOrMore,
    };
    private static readonly Option<FileInfo?> File = new("--file", "-f") { Description = "Send the contents of this file.", HelpName = "PATH" };
    private static readonly Option<bool> Hex = new("--hex") { Description = "The message is hex (e.g. \"48 65 6c\"); the echo is printed as hex." };
    private static readonly Option<Encoding> TextEncoding = CliOptions.EncodingOption();
    private static readonly Option<TimeSpan> Timeout = CliOptions.Duration("--timeout",
        "Bound on connecting and the whole exchange; default 10s. With --udp: the wait for each answer; default 2s.", TimeSpan.FromSeconds(10));
    private static readonly Option<bool> Udp = new("--udp", "-u") { Description = "Send the message as one UDP datagram (RFC 862 echo) and check the answer." };
    private static readonly Option<int> Retries = CliOptions.Int("--retries", "With --udp: send again this many times when no answer came within --timeout. Default 2.", 2, 0, 100);
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "On stderr: local and peer addresses and the round-trip time; on failure, each address tried and its error." };

    public static Command Create()
    {
        var command = new Command("send", "Send a message to an echo server and check that the same bytes come back.");
        Client.AddArgumentTo(command);
        command.Arguments.Add(Message);
        foreach (var option in new Option[] { File, Hex, TextEncoding, Timeout, Udp, Retries, Verbose })
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
        var transport = Client.BuildTransport(parse, target);
        var (udp, tls) = Client.BuildProtocol(parse, Udp, target);
        var words = parse.GetValue(Message) ?? [];
        var file = parse.GetValue(File);
        var hex = parse.GetValue(Hex);
        var encoding = parse.GetValue(TextEncoding)!;
        if (words.Length > 0 && file is not null)
        {
            throw new UsageException("give either MESSAGE or --file, not both");
        }
        if (hex && parse.GetResult(TextEncoding) is { Implicit: false })
        {
            // Hex is bytes both ways: an encoding would be silently ignored (connect says the same).
            throw new UsageException("give either --hex or --encoding, not both");
        }
        if (!udp && parse.GetResult(Retries) is { Implicit: false })
        {
            throw new UsageException("--retries applies only with --udp");
        }
        if (udp && (tls is not null || target.UnixPath is not null))
        {
            throw new UsageException(tls is not null ? "--tls works over TCP only (DTLS is not supported)" : "--udp cannot go over a Unix socket (Unix listeners are stream sockets)");
        }

        // What to send, and how to print what comes back: typed text is printed as text (one line);
        // files and piped input are bytes and come back byte for byte.
        Stream source;
        EchoPrinter printer;
        if (file is not null)
        {
            try
            {
                source = file.OpenRead();
            }
            catch (Exception ex) when (FileErrors.IsFileError(ex))
            {
                throw new InputFileException($"cannot read {FileErrors.Describe(file.FullName, ex)}");
            }
            printer = hex ? EchoPrinter.ForHex() : EchoPrinter.ForBytes();
            if (hex)
            {
                source = await HexSourceAsync(source);
            }
        }
        else if (words.Length > 0)
        {
            var text = string.Join(' ', words);
            source = new MemoryStream(hex ? ParseHex(text) : TextEncodings.GetBytes(encoding, text));
            printer = hex ? EchoPrinter.ForHex() : EchoPrinter.ForText(encoding);
        }
        else if (await StandardInput.TryOpenNonEmptyAsync() is { } stdin)
        {
            source = hex ? await HexSourceAsync(stdin) : stdin;
            printer = hex ? EchoPrinter.ForHex() : EchoPrinter.ForBytes();
        }
        else
        {
            source = new MemoryStream(TextEncodings.GetBytes(encoding, DefaultMessage));
            printer = hex ? EchoPrinter.ForHex() : EchoPrinter.ForText(encoding);
        }

        using var signals = new ShutdownSignals();
        if (udp)
        {
            await using (source)
            {
                var udpOptions = new UdpExchangeOptions { Retries = parse.GetValue(Retries), Transport = transport };
                if (parse.GetResult(Timeout) is { Implicit: false })
                {
                    udpOptions.Timeout = parse.GetValue(Timeout);
                }
                return await UdpSend.RunAsync(endpoint, source, printer, udpOptions, parse.GetValue(Verbose), signals);
            }
        }
        ExchangeResult result;
        await using (source)
        {
            try
            {
                result = await EchoExchange.RunAsync(endpoint, source, printer.WriteAsync,
                    new ExchangeOptions { Timeout = parse.GetValue(Timeout), Transport = transport, Tls = tls }, TimeProvider.System, signals.RequestedToken);
            }
            catch (OperationCanceledException) when (signals.RequestedToken.IsCancellationRequested)
            {
                await printer.CompleteAsync();
                await Console.Error.WriteLineAsync("echokit: interrupted");
                return signals.ExitCode;
            }
        }
        await printer.CompleteAsync();

        if (result.TlsValidationIgnored is { } ignored && ignored != "none")
        {
            // --insecure: the user asked for it, but must be told what it let through (connect says the same).
            await Console.Error.WriteLineAsync($"echokit: warning: {endpoint}: server certificate NOT verified (ignored: {ignored}); the connection is encrypted but anyone on the path could be the server");
        }
        if (parse.GetValue(Verbose))
        {
            foreach (var attempt in result.Attempts)
            {
                await Console.Error.WriteLineAsync($"tried {attempt}");
            }
            // Addresses only for a connection that was up (TLS handshake done); a round trip only when the echo came
            // back whole; counts only when something moved.
            if (result.RemoteEndPoint is not null)
            {
                await Console.Error.WriteLineAsync($"connected {EchoConnector.Format(result.LocalEndPoint)} -> {EchoConnector.Format(result.RemoteEndPoint)} in {ClientErrors.FormatDuration(result.ConnectTime)}");
                if (result.Success)
                {
                    await Console.Error.WriteLineAsync($"sent {result.BytesSent} B, received {result.BytesReceived} B, round trip {ClientErrors.FormatDuration(result.RoundTripTime)}");
                }
                else if (result.BytesSent > 0 || result.BytesReceived > 0)
                {
                    await Console.Error.WriteLineAsync($"sent {result.BytesSent} B, received {result.BytesReceived} B");
                }
            }
        }
        if (!result.Success)
        {
            if (parse.GetValue(Verbose) && result.Detail is { } detail)
            {
                await Console.Error.WriteLineAsync($"detail: {detail}");
            }
            await Console.Error.WriteLineAsync(ClientFailure.Line(endpoint.ToString()!, result.Message));
            if (result.Outcome == ExchangeOutcome.Mismatch)
            {
                await Console.Error.WriteAsync(MismatchReport.Format(result.MismatchOffset ?? 0, result.MismatchBefore.Span, result.MismatchExpected.Span, result.MismatchActual.Span));
            }
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }

    private static byte[] ParseHex(string text) =>
        HexParser.TryParse(text, out var bytes, out var error) ? bytes : throw new UsageException(error!);

    private static async Task<Stream> HexSourceAsync(Stream hexText)
    {
        using var reader = new StreamReader(hexText, Encoding.ASCII);
        return new MemoryStream(ParseHex(await reader.ReadToEndAsync()));
    }
}
