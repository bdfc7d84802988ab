using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Authentication;
using EchoKit.Client.Internal;

namespace EchoKit.Bench.Internal;

/// <summary>
/// TLS load: per connection a send loop and a receive loop over one <see cref="SslStream"/>, the send loop kept
/// <see cref="BenchOptions.Pipeline"/> messages ahead by a window the receive loop opens as echoes complete.
/// A message's latency runs from just before the write that carries it to the arrival of its last echoed byte,
/// as on the epoll worker; the connect time includes the TLS handshake. Recording goes through one lock: the cost
/// of TLS records and async calls dwarfs it, and docs/bench.md says what TLS costs against plain TCP.
/// Churn (lifetime, messages per connection) and the ramp work as on the epoll worker.
/// </summary>
internal sealed class TlsWorker : BenchWorker
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    private readonly object _lock = new();
    private readonly long _quota;
    private readonly TlsHandshake _handshake;
    private int _done;

    public TlsWorker(BenchRun run, long quota) : base(0, run)
    {
        _quota = quota;
        _handshake = TlsHandshake.For(run.Options.Tls!, run.Options.Endpoint?.Host);
    }

    public override Task RunAsync(CancellationToken cancellationToken) =>
        RunSlotsAsync(SlotAsync, _lock, _quota, () => Volatile.Read(ref _done) != 0, cancellationToken);

    /// <summary>One connection slot: connect, carry messages until churn or an error ends the stream, again.</summary>
    private async Task SlotAsync(int index, CancellationToken cancellationToken)
    {
        var options = Run.Options;
        var seed = BenchPattern.SeedFor(index);
        var backoff = TimeSpan.Zero;
        try
        {
            var rampDelay = TimeSpan.FromTicks(options.Ramp.Ticks * index / options.Connections);
            if (rampDelay > TimeSpan.Zero)
            {
                await Task.Delay(rampDelay, cancellationToken).ConfigureAwait(false);
            }
            // Once the message quota is reached, no new connection: the monitor stops the run within 100 ms.
            while (!cancellationToken.IsCancellationRequested && Volatile.Read(ref _done) == 0)
            {
                var error = await StreamAsync(seed, cancellationToken).ConfigureAwait(false);
                if (error is null)
                {
                    backoff = TimeSpan.Zero;
                    continue; // churn: the stream ended as planned; connect again at once
                }
                lock (_lock)
                {
                    CountError(error.Value);
                }
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>One connection's life; null when it ended as planned (churn), else the error that ended it.</summary>
    private async Task<BenchError?> StreamAsync(int seed, CancellationToken cancellationToken)
    {
        var options = Run.Options;
        var start = Stopwatch.GetTimestamp();
        using var socket = new Socket(Run.Target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream ssl;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(Run.Target, connectTimeout.Token).ConfigureAwait(false);
                ssl = await _handshake.AuthenticateAsync(socket, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                return BenchErrors.FromSocketError(ex.SocketErrorCode);
            }
            catch (AuthenticationException)
            {
                return BenchError.Other;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return BenchError.TimedOut;
            }
        }
        await using (ssl.ConfigureAwait(false))
        {
            var opened = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                ConnectTime.RecordValue(LatencyHistograms.ToMicroseconds(opened - start));
            }
            using var stream = new StreamState(options.Pipeline);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sender = SendAsync(ssl, stream, seed, opened, linked.Token);
            var receiver = ReceiveAsync(ssl, stream, seed, linked.Token);
            // The sender ends once every message it sent came back (churn) or on an error; the receiver on an error.
            // Either way the other loop is stopped: the stream is done.
            await Task.WhenAny(sender, receiver).ConfigureAwait(false);
            await linked.CancelAsync().ConfigureAwait(false);
            var (sendError, receiveError) = (await Settle(sender).ConfigureAwait(false), await Settle(receiver).ConfigureAwait(false));
            cancellationToken.ThrowIfCancellationRequested();
            return sendError ?? receiveError;
        }
    }

    private static async Task<BenchError?> Settle(Task<BenchError?> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null; // stopped by the other loop or by the end of the run
        }
    }

    /// <summary>Writes messages while the window allows, until churn says this stream has carried enough.</summary>
    private async Task<BenchError?> SendAsync(SslStream ssl, StreamState stream, int seed, long opened, CancellationToken cancellationToken)
    {
        var options = Run.Options;
        var size = options.Size;
        var perConnection = options.MessagesPerConnection ?? long.MaxValue;
        var lifetime = options.ConnectionLifetime is { } l ? (long)(l.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var held = 0;
        try
        {
            for (long message = 0; message < perConnection; message++)
            {
                await stream.Window.WaitAsync(cancellationToken).ConfigureAwait(false);
                var before = Stopwatch.GetTimestamp();
                if (before - opened >= lifetime || Volatile.Read(ref _done) != 0)
                {
                    held = 1;
                    break;
                }
                Volatile.Write(ref stream.Stamps[message & stream.Mask], before);
                for (long offset = 0; offset < size;)
                {
                    var length = (int)Math.Min(size - offset, BenchPattern.MaxChunk);
                    var at = (int)((seed + message * size + offset) % BenchPattern.Period);
                    await ssl.WriteAsync(BenchPattern.Bytes.AsMemory(at, length), cancellationToken).ConfigureAwait(false);
                    offset += length;
                }
            }
            // Wait for the messages in flight: the window is whole again once every one came back.
            for (; held < options.Pipeline; held++)
            {
                await stream.Window.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            return null;
        }
        catch (IOException ex) when (ex.InnerException is SocketException s)
        {
            return BenchErrors.FromSocketError(s.SocketErrorCode);
        }
        catch (IOException)
        {
            return BenchError.Reset;
        }
    }

    /// <summary>Reads echoes, checks every byte, completes messages and opens the window; runs until stopped or an error.</summary>
    private async Task<BenchError?> ReceiveAsync(SslStream ssl, StreamState stream, int seed, CancellationToken cancellationToken)
    {
        var size = Run.Options.Size;
        var buffer = new byte[Math.Min(64 * 1024, Math.Max(size, 4096))];
        long received = 0, done = 0;
        try
        {
            while (true)
            {
                var n = await ssl.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                var now = Stopwatch.GetTimestamp();
                if (n == 0)
                {
                    return BenchError.ClosedByServer;
                }
                var mismatches = BenchPattern.CountMismatches(buffer.AsSpan(0, n), seed, received);
                received += n;
                var completed = received / size;
                lock (_lock)
                {
                    Mismatches += mismatches;
                    for (; done < completed; done++)
                    {
                        var latency = now - Volatile.Read(ref stream.Stamps[done & stream.Mask]);
                        if (IsMeasuring(now) && Messages < _quota)
                        {
                            RecordMessage(latency, now, size);
                            if (Messages >= _quota)
                            {
                                Volatile.Write(ref _done, 1);
                            }
                        }
                        else if (now < Run.MeasureTicks)
                        {
                            RecordWarmupMessage(latency, size);
                        }
                    }
                }
                var free = (int)(completed - stream.Released);
                if (free > 0)
                {
                    stream.Released = completed;
                    stream.Window.Release(free);
                }
            }
        }
        catch (IOException ex) when (ex.InnerException is SocketException s)
        {
            return BenchErrors.FromSocketError(s.SocketErrorCode);
        }
        catch (IOException)
        {
            return BenchError.Reset;
        }
    }

    /// <summary>What the two loops of one connection share: the send-time ring and the window.</summary>
    private sealed class StreamState(int pipeline) : IDisposable
    {
        public readonly long[] Stamps = new long[BitOperations.RoundUpToPowerOf2((uint)pipeline)];
        public long Mask => Stamps.Length - 1;
        public readonly SemaphoreSlim Window = new(pipeline, pipeline);
        public long Released;

        public void Dispose() => Window.Dispose();
    }
}
