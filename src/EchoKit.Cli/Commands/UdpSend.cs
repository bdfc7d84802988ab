using EchoKit.Cli.Hosting;
using EchoKit.Cli.Output;
using EchoKit.Cli.Parsing;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;

namespace EchoKit.Cli.Commands;

/// <summary><c>echokit send --udp</c>: the message goes as one datagram (<see cref="UdpExchange"/>).</summary>
internal static class UdpSend
{
    /// <summary>Sends what <paramref name="source"/> holds as one datagram and prints the answer; returns the exit code.</summary>
    public static async Task<int> RunAsync(EndpointSpec endpoint, Stream source, EchoPrinter printer, UdpExchangeOptions options, bool verbose, ShutdownSignals signals)
    {
        var cancellationToken = signals.RequestedToken;
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Split(" (Parameter", 2)[0]);
        }
        var payload = await ReadPayloadAsync(source, cancellationToken);
        UdpExchangeResult result;
        try
        {
            result = await UdpExchange.RunAsync(endpoint, payload, options, TimeProvider.System, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("echokit: interrupted");
            return signals.ExitCode;
        }
        // Only bytes checked against what was sent reach stdout, as TCP send prints only verified echo: a wrong answer
        // is the peer's to choose (escape sequences for the user's terminal included), and is shown in hex below.
        var verified = result.Success ? result.Reply : result.Reply[..Math.Min(result.MismatchOffset ?? 0, result.Reply.Length)];
        if (!verified.IsEmpty)
        {
            await printer.WriteAsync(verified, CancellationToken.None);
        }
        await printer.CompleteAsync();

        if (verbose)
        {
            if (result.RemoteEndPoint is not null)
            {
                await Console.Error.WriteLineAsync($"udp {EchoConnector.Format(result.LocalEndPoint)} -> {EchoConnector.Format(result.RemoteEndPoint)}");
            }
            if (result.Tries > 0)
            {
                // Nothing was sent when the address could not be resolved or bound: no "sent 0 B" line then.
                await Console.Error.WriteLineAsync(result.Reply.IsEmpty
                    ? $"sent {result.BytesSent} B in {result.Tries} datagram(s), no answer"
                    : $"sent {result.BytesSent} B in {result.Tries} datagram(s), received {result.Reply.Length} B, round trip {ClientErrors.FormatDuration(result.RoundTripTime)}");
            }
        }
        if (!result.Success)
        {
            await Console.Error.WriteLineAsync(ClientFailure.Line(endpoint.ToString()!, result.Message));
            if (result.Outcome == ExchangeOutcome.Mismatch && result.MismatchOffset is { } at)
            {
                var same = (int)at;
                var from = Math.Max(0, same - 8);
                await Console.Error.WriteAsync(MismatchReport.Format(at, payload.AsSpan(from, same - from),
                    payload.AsSpan(same, Math.Min(16, payload.Length - same)), result.Reply.Span.Slice(same, Math.Min(16, result.Reply.Length - same))));
            }
            return ExitCodes.Failure;
        }
        return ExitCodes.Ok;
    }

    /// <summary>Reads the whole message, refusing (exit 2) one that cannot fit any datagram.</summary>
    private static async Task<byte[]> ReadPayloadAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = new byte[UdpOptions.MaxIPv6Datagram + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }
            length += read;
        }
        throw new UsageException($"the message is over {UdpOptions.MaxIPv6Datagram} bytes, the most one UDP datagram carries ({UdpOptions.MaxIPv4Datagram} over IPv4)");
    }
}
