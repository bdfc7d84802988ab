using System.Globalization;
using System.Net.Sockets;
using EchoKit.Internal;

namespace EchoKit.Server.ProxyProtocol;

/// <summary>
/// Reads a PROXY header off a fresh connection into a bounded buffer, within a timeout. Bytes the client sent
/// after the header may arrive in the same read; they stay in the buffer, after the header, for the echo.
/// </summary>
internal static class ProxyHeaderReader
{
    /// <summary>The buffer the reader needs: a whole header of the largest kind allowed.</summary>
    public static int BufferSize(ProxyProtocolOptions options) => Math.Max(ProxyHeaderParser.MaxV1Length, options.MaxHeaderLength);

    /// <summary>
    /// Reads until the header is complete or invalid. Expected failures (invalid, truncated, too slow, reset) come
    /// back as <see cref="ProxyReadOutcome.Error"/>; a socket closed under us (shutdown) throws.
    /// </summary>
    public static async ValueTask<ProxyReadOutcome> ReadAsync(Socket socket, Memory<byte> buffer, ProxyProtocolOptions options, TimeProvider time)
    {
        using var timeout = new CancellationTokenSource(options.HeaderTimeout, time);
        var received = 0;
        while (true)
        {
            int count;
            try
            {
                count = await socket.ReceiveAsync(buffer[received..], SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                var seconds = options.HeaderTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                return ProxyReadOutcome.Failed(received == 0 ? $"no header within {seconds}s" : $"header incomplete after {seconds}s");
            }
            catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
            {
                return ProxyReadOutcome.Failed($"connection lost before the header was complete ({ex.SocketErrorCode})");
            }
            if (count == 0)
            {
                return ProxyReadOutcome.Failed(received == 0 ? "closed without sending a header" : "truncated: closed before the header was complete");
            }
            received += count;
            var result = ProxyHeaderParser.Parse(buffer.Span[..received], options.MaxHeaderLength);
            switch (result.Status)
            {
                case ProxyParseStatus.Complete:
                    return new ProxyReadOutcome(result.Header, result.Length, received, null);
                case ProxyParseStatus.Invalid:
                    return ProxyReadOutcome.Failed(result.Error!);
                default:
                    if (received == buffer.Length)
                    {
                        // Unreachable with BufferSize (the parser rejects longer headers first); kept as a bound.
                        return ProxyReadOutcome.Failed("header longer than the buffer");
                    }
                    break;
            }
        }
    }
}
