using EchoKit.Client.Internal;
using EchoKit.Internal;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using EchoKit.Endpoints;

namespace EchoKit.Client;

/// <summary>
/// The tutorial's client, done right: connect (TCP, TLS or a Unix socket), send a payload while reading the echo at
/// the same time (so a payload of any size never deadlocks against the server's buffers), half-close, and check
/// every byte that comes back against what was sent.
/// </summary>
public static class EchoExchange
{
    /// <summary>Bytes of context kept before a mismatch, and shown after it.</summary>
    private const int ContextBefore = 8;
    private const int ContextAfter = 16;

    /// <summary>
    /// Runs one exchange. Never throws for network trouble: the result says what happened in one line.
    /// Cancelling <paramref name="cancellationToken"/> throws <see cref="OperationCanceledException"/>, and an
    /// exception <paramref name="onEcho"/> throws is thrown as it is.
    /// </summary>
    /// <param name="endpoint">Where the echo server is (with a Unix socket in <see cref="ExchangeOptions.Transport"/>, only named in messages).</param>
    /// <param name="source">The payload, read to its end.</param>
    /// <param name="onEcho">Called with each chunk of echo, in order, after it was checked (may be null). When it
    /// throws (the caller's output is full, say), the exchange stops and the exception reaches the caller unchanged:
    /// it is the caller's failure, not the network's, and no timeout or reset is made of it.</param>
    /// <param name="options">Timeout, bounds, transport and TLS.</param>
    /// <param name="timeProvider">Clock for the timeout and timings; the system clock by default.</param>
    /// <param name="cancellationToken">Stops the exchange.</param>
    public static async Task<ExchangeResult> RunAsync(
        EndpointSpec endpoint,
        Stream source,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onEcho,
        ExchangeOptions options,
        TimeProvider? timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var time = timeProvider ?? TimeProvider.System;

        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var state = new ExchangeState();
        var start = time.GetTimestamp();
        Socket? socket = null;
        Stream? stream = null;
        try
        {
            socket = await EchoConnector.ConnectAsync(endpoint, options.Transport, SocketType.Stream, state.Attempts, token).ConfigureAwait(false);
            if (options.Tls is { } tls)
            {
                var handshake = TlsHandshake.For(tls, options.Transport.UnixSocketPath is null ? endpoint.Host : null);
                stream = await handshake.AuthenticateDuplexAsync(socket, token).ConfigureAwait(false);
                state.TlsIgnored = tls.SkipValidation ? handshake.IgnoredErrors : null;
            }
            else
            {
                stream = new NetworkStream(socket, ownsSocket: false);
            }
            // Connected only now, with the TLS handshake done: a result has addresses only for a connection that was up.
            state.Local = socket.LocalEndPoint;
            state.Remote = socket.RemoteEndPoint;
            state.ConnectTime = time.GetElapsedTime(start);
            state.SendStart = time.GetTimestamp();

            var pipe = new Pipe(new PipeOptions(
                pauseWriterThreshold: options.MaxUnverifiedBytes,
                resumeWriterThreshold: options.MaxUnverifiedBytes / 2,
                useSynchronizationContext: false));

            using var stopOther = CancellationTokenSource.CreateLinkedTokenSource(token);
            var writer = WriteAsync(socket, stream, source, pipe.Writer, state, options.BufferSize, stopOther.Token);
            var reader = ReadAsync(stream, pipe.Reader, onEcho, state, options.BufferSize, stopOther.Token);

            var first = await Task.WhenAny(writer, reader).ConfigureAwait(false);
            if (first == reader || first.IsFaulted || first.IsCanceled)
            {
                // The reader has the verdict (or the writer failed): stop the other side and wait for it.
                if (!reader.IsCompletedSuccessfully || reader.Result.Outcome != ExchangeOutcome.Matched)
                {
                    stopOther.Cancel();
                }
            }
            var writerError = await writer.ObserveAsync().ConfigureAwait(false);
            var readerError = await reader.ObserveAsync().ConfigureAwait(false);

            if (readerError is EchoCallbackException callback)
            {
                ExceptionDispatchInfo.Throw(callback.InnerException!);
            }
            if (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return state.Result(ExchangeOutcome.TimedOut, $"timed out after {ClientErrors.FormatDuration(options.Timeout)}", time);
            }
            cancellationToken.ThrowIfCancellationRequested();
            ExchangeResult result;
            if (reader.IsCompletedSuccessfully && (reader.Result.Outcome != ExchangeOutcome.Matched || writerError is null))
            {
                result = reader.Result with { RoundTripTime = time.GetElapsedTime(state.SendStart) };
            }
            else
            {
                result = FromException(FirstCause(writerError, readerError), state, options, time);
            }
            return await DiagnosePlainToTlsAsync(result, endpoint, options, state, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or AuthenticationException || (ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            return FromException(ex, state, options, time);
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            socket?.Dispose();
        }
    }

    /// <summary>
    /// A plain exchange that a server ended before echoing a byte may have met a TLS port: the server reads our text
    /// as a broken ClientHello and hangs up. Asking once more with a ClientHello tells; the reason then says so
    /// instead of a bare "connection closed after 0 of 12 bytes".
    /// </summary>
    private static async Task<ExchangeResult> DiagnosePlainToTlsAsync(ExchangeResult result, EndpointSpec endpoint, ExchangeOptions options, ExchangeState state, CancellationToken token)
    {
        if (options.Tls is not null || state.Verified > 0 || result.Outcome is not (ExchangeOutcome.ClosedEarly or ExchangeOutcome.Reset or ExchangeOutcome.Mismatch))
        {
            return result;
        }
        if (result.Outcome == ExchangeOutcome.Mismatch && !TlsProbe.IsTlsRecord(result.MismatchActual.Span))
        {
            return result;
        }
        return await TlsProbe.SpeaksTlsAsync(endpoint, options.Transport, token).ConfigureAwait(false)
            ? result with { Message = $"{result.Message}: the server speaks TLS on this port (use --tls)" }
            : result;
    }

    /// <summary>
    /// The error that ended the exchange. The side that failed first cancelled the other (stopOther), so a
    /// cancellation is the cause only when nothing else went wrong; of two real errors, the writer's.
    /// </summary>
    private static Exception FirstCause(Exception? writerError, Exception? readerError) =>
        writerError is null || (writerError is OperationCanceledException && readerError is not (null or OperationCanceledException))
            ? readerError!
            : writerError;

    /// <summary>
    /// The result for the error that ended the exchange. A cancellation reaching here is the timeout's: the user's is
    /// thrown before, and one side's cancellation of the other is never the cause (<see cref="FirstCause"/>).
    /// </summary>
    private static ExchangeResult FromException(Exception ex, ExchangeState state, ExchangeOptions options, TimeProvider time)
    {
        if (ex is IOException { InnerException: SocketException inner })
        {
            ex = inner;
        }
        switch (ex)
        {
            case OperationCanceledException:
                return state.Result(ExchangeOutcome.TimedOut, $"timed out after {ClientErrors.FormatDuration(options.Timeout)}", time);
            case SocketException se:
                var (outcome, message) = ClientErrors.Describe(se.SocketErrorCode);
                if (outcome == ExchangeOutcome.Reset)
                {
                    message = $"{message} after {state.Verified} of {state.Sent} bytes";
                }
                if (state.Remote is null && options.Transport.UnixSocketPath is { } path)
                {
                    message = ClientErrors.DescribeUnix(se.SocketErrorCode, path) ?? $"{path}: {message}";
                }
                return state.Result(outcome, message, time);
            case AuthenticationException ae:
                return state.Result(ExchangeOutcome.TlsFailed, ae.Message, time) with { Detail = TlsHandshake.Detail(ae) };
            case SourceReadException sre:
                return state.Result(ExchangeOutcome.SourceError, $"cannot read input: {sre.Message}", time);
            case IOException io:
                return state.Result(ExchangeOutcome.Reset, $"connection failed after {state.Verified} of {state.Sent} bytes ({io.Message.TrimEnd('.')})", time);
            default:
                return state.Result(ExchangeOutcome.Failed, ex.Message, time);
        }
    }

    private static async Task WriteAsync(Socket socket, Stream stream, Stream source, PipeWriter expected, ExchangeState state, int bufferSize, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    // Console streams ignore cancellation while blocked; WaitAsync lets a timeout win anyway.
                    read = await source.ReadAsync(buffer.AsMemory(0, bufferSize), token).AsTask().WaitAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ClientErrors.DescribeStreamError(ex) is not null)
                {
                    throw new SourceReadException(ex);
                }
                if (read == 0)
                {
                    break;
                }
                // Record what we expect before sending it, so an echo can never arrive ahead of its expectation.
                // The flush waits while too much is unverified: back-pressure on the source.
                await expected.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                await stream.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                Interlocked.Add(ref state.SentField, read);
            }
            await expected.CompleteAsync().ConfigureAwait(false);
            if (stream is DuplexTlsStream tls)
            {
                await tls.ShutdownAsync().ConfigureAwait(false); // close_notify before the FIN
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex)
        {
            await expected.CompleteAsync(ex).ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<ExchangeResult> ReadAsync(Stream stream, PipeReader expected, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onEcho, ExchangeState state, int bufferSize, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            while (true)
            {
                // Wait until something is owed to us, or the source has ended with everything checked.
                var owed = await expected.ReadAsync(token).ConfigureAwait(false);
                if (owed.Buffer.IsEmpty && owed.IsCompleted)
                {
                    return state.Result(ExchangeOutcome.Matched, "ok", TimeProvider.System);
                }
                expected.AdvanceTo(owed.Buffer.Start);

                var received = await stream.ReadAsync(buffer.AsMemory(0, bufferSize), token).ConfigureAwait(false);
                if (received == 0)
                {
                    return state.Result(ExchangeOutcome.ClosedEarly, $"connection closed after {state.Verified} of {Math.Max(state.Sent, state.Verified)} bytes", TimeProvider.System);
                }
                state.Received += received;

                var mismatch = await VerifyAsync(expected, buffer.AsMemory(0, received), state, token).ConfigureAwait(false);
                if (mismatch is { } found)
                {
                    return state.Result(ExchangeOutcome.Mismatch, $"mismatch at byte {found.Offset}", TimeProvider.System) with
                    {
                        MismatchOffset = found.Offset,
                        MismatchBefore = found.Before,
                        MismatchExpected = found.Expected,
                        MismatchActual = found.Actual,
                    };
                }
                if (onEcho is not null)
                {
                    try
                    {
                        await onEcho(buffer.AsMemory(0, received), token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        throw new EchoCallbackException(ex);
                    }
                }
            }
        }
        finally
        {
            await expected.CompleteAsync().ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks <paramref name="echo"/> against the next expected bytes; the first difference with its context, or null.</summary>
    private static async ValueTask<Mismatch?> VerifyAsync(PipeReader expected, ReadOnlyMemory<byte> echo, ExchangeState state, CancellationToken token)
    {
        while (!echo.IsEmpty)
        {
            var owed = await expected.ReadAsync(token).ConfigureAwait(false);
            var available = owed.Buffer;
            if (available.IsEmpty && owed.IsCompleted)
            {
                // More came back than was ever sent.
                return new Mismatch(state.Verified, state.RecentBytes(), ReadOnlyMemory<byte>.Empty, echo[..Math.Min(echo.Length, ContextAfter)].ToArray());
            }
            var count = (int)Math.Min(available.Length, echo.Length);
            var offset = 0;
            foreach (var segment in available.Slice(0, count))
            {
                var got = echo.Span.Slice(offset, segment.Length);
                var diff = got.CommonPrefixLength(segment.Span);
                if (diff < segment.Length)
                {
                    state.Remember(echo.Span[..(offset + diff)]);
                    var at = available.Slice(offset + diff);
                    var expectedBytes = at.Slice(0, Math.Min(at.Length, ContextAfter)).ToArray();
                    var actualBytes = echo.Slice(offset + diff, Math.Min(echo.Length - offset - diff, ContextAfter)).ToArray();
                    expected.AdvanceTo(available.Start);
                    return new Mismatch(state.Verified + offset + diff, state.RecentBytes(), expectedBytes, actualBytes);
                }
                offset += segment.Length;
            }
            expected.AdvanceTo(available.GetPosition(count));
            state.Verified += count;
            state.Remember(echo.Span[..count]);
            echo = echo[count..];
        }
        return null;
    }

    private readonly record struct Mismatch(long Offset, byte[] Before, ReadOnlyMemory<byte> Expected, ReadOnlyMemory<byte> Actual);

    private sealed class ExchangeState
    {
        public long SentField;
        public long Received;
        public long Verified;
        public TimeSpan ConnectTime;
        public long SendStart;
        public string? TlsIgnored;
        public System.Net.EndPoint? Local;
        public System.Net.EndPoint? Remote;
        public readonly List<ConnectAttempt> Attempts = [];
        // The last bytes verified, for a mismatch's context: a few bytes copied per read, nothing allocated.
        private readonly byte[] _recent = new byte[ContextBefore];
        private int _recentLength;

        public long Sent => Interlocked.Read(ref SentField);

        public void Remember(ReadOnlySpan<byte> verified)
        {
            if (verified.Length >= ContextBefore)
            {
                verified[^ContextBefore..].CopyTo(_recent);
                _recentLength = ContextBefore;
                return;
            }
            var keep = Math.Min(_recentLength, ContextBefore - verified.Length);
            _recent.AsSpan(_recentLength - keep, keep).CopyTo(_recent);
            verified.CopyTo(_recent.AsSpan(keep));
            _recentLength = keep + verified.Length;
        }

        public byte[] RecentBytes() => _recent.AsSpan(0, _recentLength).ToArray();

        public ExchangeResult Result(ExchangeOutcome outcome, string message, TimeProvider time) => new()
        {
            Outcome = outcome,
            Message = message,
            BytesSent = Sent,
            BytesReceived = Received,
            LocalEndPoint = Local,
            RemoteEndPoint = Remote,
            ConnectTime = ConnectTime,
            RoundTripTime = SendStart == 0 ? TimeSpan.Zero : time.GetElapsedTime(SendStart),
            Attempts = Attempts.ToArray(),
            TlsValidationIgnored = TlsIgnored,
        };
    }

    /// <summary>The caller's onEcho failed: carried out of the reader to be thrown to the caller as it was.</summary>
    private sealed class EchoCallbackException(Exception inner) : Exception(inner.Message, inner);

    private sealed class SourceReadException(Exception inner) : Exception(ClientErrors.DescribeStreamError(inner) ?? inner.Message, inner);
}
