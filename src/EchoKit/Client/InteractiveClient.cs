using EchoKit.Client.Internal;
using EchoKit.Endpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoKit.Client;

/// <summary>
/// An interactive client, as <c>nc</c>, <c>ncat</c> or <c>telnet</c>: it copies the input to the server and what
/// the server sends to the output at the same time, so either side may speak first (SMTP, POP3, IMAP and FTP servers
/// greet before the client says anything). Over TCP, the end of input half-closes the connection and the session
/// goes on printing until the peer closes; over UDP each input line is a datagram, and after the input ends it
/// waits for replies until none has come for <see cref="ConnectOptions.ReplyTimeout"/>.
/// </summary>
/// <remarks>
/// Layout: <c>Client/Internal/InteractiveSession</c> runs the two loops; <c>InputReader</c> makes blocking input
/// abandonable; <c>InputTranslator</c> does --crlf and --encoding on the way out; <c>ReceivedDataWriter</c> does
/// raw, text and hex dump on the way in; <c>TlsHandshake</c> validates and explains certificates; <c>IdleTimer</c>
/// is the idle timeout. Every buffer is bounded by <see cref="ConnectOptions.BufferSize"/> (or one datagram), and
/// each chunk is written before the next is read, so a slow side slows the other instead of filling memory.
/// </remarks>
public static class InteractiveClient
{
    /// <summary>
    /// Runs one session. Never throws for network trouble: the result says how it ended in one line, and is a
    /// success when the peer closed cleanly (TCP) or the replies ended after the input (UDP).
    /// Cancelling <paramref name="cancellationToken"/> (Ctrl+C) ends it at once and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="endpoint">Where the server is.</param>
    /// <param name="input">What to send (standard input). Any stream: its reads run on the thread pool and are abandoned if the session ends first.</param>
    /// <param name="output">Where what arrives goes (standard output); flushed after every chunk.</param>
    /// <param name="options">Transport, TLS, translation, display and timeouts.</param>
    /// <param name="loggerFactory">Receives events 400-499 (connected, TLS details, half-close, the closing summary); null for none.</param>
    /// <param name="timeProvider">Clock for timeouts and timings; the system clock by default.</param>
    /// <param name="cancellationToken">Ends the session at once.</param>
    public static Task<ConnectResult> RunAsync(
        EndpointSpec endpoint,
        Stream input,
        Stream output,
        ConnectOptions options,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("EchoKit.Client.InteractiveClient");
        var session = new InteractiveSession(endpoint, input, output, options, logger, timeProvider ?? TimeProvider.System);
        return session.RunAsync(cancellationToken);
    }
}
