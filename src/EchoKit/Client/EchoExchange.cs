using EchoKit.Internal;
using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Client;

/// <summary>
/// The tutorial's client, done right: connect, send a payload while reading the echo at the same time (so a
/// payload of any size never deadlocks against the server's buffers), half-close, and check every byte that comes
/// back against what was sent.
/// </summary>
public static class EchoExchange
{
    /// <summary>
    /// Runs one exchange. Never throws for network trouble: the result says what happened in one line.
    /// Cancelling <paramref name="cancellationToken"/> throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="endpoint">Where the echo server is.</param>
    /// <param name="source">The payload, read to its end.</param>
    /// <param name="onEcho">Called with each chunk of echo, in order, after it was checked (may be null).</param>
    /// <param name="options">Timeout and bounds.</param>
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
        try
        {
            socket = await EchoConnector.ConnectTcpAsync(endpoint, token).ConfigureAwait(false);
            state.ConnectTime = time.GetElapsedTime(start);
            state.Local = socket.LocalEndPoint;
            state.Remote = socket.RemoteEndPoint;
            state.SendStart = time.GetTimestamp();

            var pipe = new Pipe(new PipeOptions(
                pauseWriterThreshold: options.MaxUnverifiedBytes,
                resumeWriterThreshold: options.MaxUnverifiedBytes / 2,
                useSynchronizationContext: false));

            using var stopOther = CancellationTokenSource.CreateLinkedTokenSource(token);
            var writer = WriteAsync(socket, source, pipe.Writer, state, options.BufferSize, stopOther.Token);
            var reader = ReadAsync(socket, pipe.Reader, onEcho, state, options.BufferSize, stopOther.Token);

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

            if (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return state.Result(ExchangeOutcome.TimedOut, $"timed out after {ClientErrors.FormatDuration(options.Timeout)}", time);
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (reader.IsCompletedSuccessfully && (reader.Result.Outcome != ExchangeOutcome.Matched || writerError is null))
            {
                return reader.Result with { RoundTripTime = time.GetElapsedTime(state.SendStart) };
            }
            return FromException(writerError ?? readerError!, state, options, time);
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            return FromException(ex, state, options, time);
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static ExchangeResult FromException(Exception ex, ExchangeState state, ExchangeOptions options, TimeProvider time)
    {
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
                return state.Result(outcome, message, time);
            case SourceReadException sre:
                return state.Result(ExchangeOutcome.SourceError, $"cannot read input: {sre.InnerException?.Message}", time);
            default:
                return state.Result(ExchangeOutcome.Failed, ex.Message, time);
        }
    }

    private static async Task WriteAsync(Socket socket, Stream source, PipeWriter expected, ExchangeState state, int bufferSize, CancellationToken token)
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
                catch (IOException ex)
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
                var data = buffer.AsMemory(0, read);
                while (!data.IsEmpty)
                {
                    var sent = await socket.SendAsync(data, SocketFlags.None, token).ConfigureAwait(false);
                    data = data[sent..];
                    Interlocked.Add(ref state.SentField, sent);
                }
            }
            await expected.CompleteAsync().ConfigureAwait(false);
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

    private static async Task<ExchangeResult> ReadAsync(Socket socket, PipeReader expected, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onEcho, ExchangeState state, int bufferSize, CancellationToken token)
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

                var received = await socket.ReceiveAsync(buffer.AsMemory(0, bufferSize), SocketFlags.None, token).ConfigureAwait(false);
                if (received == 0)
                {
                    return state.Result(ExchangeOutcome.ClosedEarly, $"connection closed after {state.Verified} of {Math.Max(state.Sent, state.Verified)} bytes", TimeProvider.System);
                }
                state.Received += received;

                var mismatch = await VerifyAsync(expected, buffer.AsMemory(0, received), state, token).ConfigureAwait(false);
                if (mismatch is { } offset)
                {
                    return state.Result(ExchangeOutcome.Mismatch, $"mismatch at byte {offset}", TimeProvider.System) with { MismatchOffset = offset };
                }
                if (onEcho is not null)
                {
                    await onEcho(buffer.AsMemory(0, received), token).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await expected.CompleteAsync().ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks <paramref name="echo"/> against the next expected bytes; the offset of the first difference, or null.</summary>
    private static async ValueTask<long?> VerifyAsync(PipeReader expected, ReadOnlyMemory<byte> echo, ExchangeState state, CancellationToken token)
    {
        while (!echo.IsEmpty)
        {
            var owed = await expected.ReadAsync(token).ConfigureAwait(false);
            var available = owed.Buffer;
            if (available.IsEmpty && owed.IsCompleted)
            {
                // More came back than was ever sent.
                return state.Verified;
            }
            var count = (int)Math.Min(available.Length, echo.Length);
            var offset = 0;
            foreach (var segment in available.Slice(0, count))
            {
                var got = echo.Span.Slice(offset, segment.Length);
                var diff = got.CommonPrefixLength(segment.Span);
                if (diff < segment.Length)
                {
                    expected.AdvanceTo(available.Start);
                    return state.Verified + offset + diff;
                }
                offset += segment.Length;
            }
            expected.AdvanceTo(available.GetPosition(count));
            state.Verified += count;
            echo = echo[count..];
        }
        return null;
    }

    private sealed class ExchangeState
    {
        public long SentField;
        public long Received;
        public long Verified;
        public TimeSpan ConnectTime;
        public long SendStart;
        public System.Net.EndPoint? Local;
        public System.Net.EndPoint? Remote;

        public long Sent => Interlocked.Read(ref SentField);

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
        };
    }

    private sealed class SourceReadException(IOException inner) : Exception(inner.Message, inner);
}
