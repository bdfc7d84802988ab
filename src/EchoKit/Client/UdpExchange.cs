using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Server;

namespace EchoKit.Client;

/// <summary>
/// The UDP client of RFC 862: sends a message as one datagram, waits for the echo, sends again after a timeout
/// (UDP may lose the datagram or its answer), and checks the answer byte for byte. The socket is connected to the
/// server's address, so the kernel discards datagrams from any other source (nobody can slip a fake answer in by
/// sending to our port) and reports an ICMP "port unreachable" as refused.
/// </summary>
public static class UdpExchange
{
    /// <summary>
    /// Runs one exchange. Never throws for network trouble: the result says what happened in one line.
    /// Cancelling <paramref name="cancellationToken"/> throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="endpoint">Where the echo server is; a name is tried address by address while each is refused.</param>
    /// <param name="payload">The datagram: at most <see cref="UdpOptions.MaxIPv4Datagram"/> bytes to an IPv4
    /// address, <see cref="UdpOptions.MaxIPv6Datagram"/> to an IPv6 one.</param>
    /// <param name="options">Timeout per try and retries.</param>
    /// <param name="timeProvider">Clock for the timeouts; the system clock by default.</param>
    /// <param name="cancellationToken">Stops the exchange.</param>
    public static async Task<UdpExchangeResult> RunAsync(
        EndpointSpec endpoint,
        ReadOnlyMemory<byte> payload,
        UdpExchangeOptions options,
        TimeProvider? timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var time = timeProvider ?? TimeProvider.System;
        if (payload.Length > UdpOptions.MaxIPv6Datagram)
        {
            return Failed(ExchangeOutcome.Failed, $"{payload.Length} bytes do not fit one UDP datagram (at most {UdpOptions.MaxIPv6Datagram} bytes, {UdpOptions.MaxIPv4Datagram} over IPv4)", payload.Length);
        }

        IReadOnlyList<IPEndPoint> addresses;
        try
        {
            addresses = await EchoConnector.ResolveAsync(endpoint, options.Transport, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            var (outcome, message) = ClientErrors.Describe(ex.SocketErrorCode);
            return Failed(outcome, message, payload.Length);
        }

        UdpExchangeResult? last = null;
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork && payload.Length > UdpOptions.MaxIPv4Datagram)
            {
                last = Failed(ExchangeOutcome.Failed, $"{payload.Length} bytes do not fit one UDP datagram over IPv4 (at most {UdpOptions.MaxIPv4Datagram} bytes)", payload.Length);
                continue;
            }
            last = await ExchangeAsync(address, payload, options, time, cancellationToken).ConfigureAwait(false);
            if (last.Outcome != ExchangeOutcome.Refused)
            {
                return last;
            }
            // Refused: nothing listens on this address; a name's next address may have the server.
        }
        return last ?? Failed(ExchangeOutcome.HostNotFound, "host not found", payload.Length);
    }

    private static async Task<UdpExchangeResult> ExchangeAsync(IPEndPoint address, ReadOnlyMemory<byte> payload, UdpExchangeOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        var buffer = new byte[UdpOptions.MaxIPv6Datagram + 1]; // one more, so an over-long answer shows as a mismatch
        var tries = 0;
        EndPoint? local = null;
        try
        {
            if (options.Transport.LocalEndPoint is { } source)
            {
                socket.Bind(new IPEndPoint(ClientTransport.Normalize(source.Address), source.Port));
            }
            await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            local = socket.LocalEndPoint;
            var total = options.Retries + 1;
            while (tries < total)
            {
                tries++;
                var sentAt = time.GetTimestamp();
                await socket.SendAsync(payload, SocketFlags.None, cancellationToken).ConfigureAwait(false);

                using var timeout = new CancellationTokenSource(options.Timeout, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                int received;
                try
                {
                    received = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    continue; // lost on the way there or back: try again
                }

                var reply = buffer.AsMemory(0, received);
                var result = new UdpExchangeResult
                {
                    Outcome = ExchangeOutcome.Matched,
                    Message = "ok",
                    Tries = tries,
                    BytesSent = payload.Length,
                    Reply = reply.ToArray(),
                    LocalEndPoint = local,
                    RemoteEndPoint = address,
                    RoundTripTime = time.GetElapsedTime(sentAt),
                };
                var same = reply.Span.CommonPrefixLength(payload.Span);
                if (same == payload.Length && received == payload.Length)
                {
                    return result;
                }
                return result with { Outcome = ExchangeOutcome.Mismatch, Message = $"mismatch at byte {same}", MismatchOffset = same };
            }
            return Failed(ExchangeOutcome.TimedOut, tries == 1 ? "no reply after 1 try" : $"no reply after {tries} tries", payload.Length, tries, local, address);
        }
        catch (SocketException ex)
        {
            var (outcome, message) = ex.SocketErrorCode == SocketError.ConnectionRefused
                ? (ExchangeOutcome.Refused, "connection refused (port unreachable: no UDP server there)")
                : ex.SocketErrorCode == SocketError.MessageSize
                    ? (ExchangeOutcome.Failed, $"{payload.Length} bytes are too many for one datagram on this path")
                    : ClientErrors.Describe(ex.SocketErrorCode);
            return Failed(outcome, message, payload.Length, tries, local, address);
        }
    }

    private static UdpExchangeResult Failed(ExchangeOutcome outcome, string message, int bytes, int tries = 0, EndPoint? local = null, EndPoint? remote = null) => new()
    {
        Outcome = outcome,
        Message = message,
        Tries = tries,
        BytesSent = bytes,
        LocalEndPoint = local,
        RemoteEndPoint = remote,
    };
}
