using System.Diagnostics;
using System.Net.Sockets;

namespace EchoKit.Bench.Internal;

/// <summary>
/// Connections per second: <see cref="BenchOptions.Connections"/> loops, each connecting, echoing one message,
/// closing, and starting again. A message's latency is the whole cycle (connect to last echoed byte); the connect
/// alone goes to the connect-time histogram. Kernel work per connection dwarfs a few allocations, so this mode uses
/// ordinary <see cref="Socket"/> async calls; the loops share this worker's histograms under one lock.
/// </summary>
internal sealed class ConnectRateWorker : BenchWorker
{
    private static readonly TimeSpan ErrorPause = TimeSpan.FromMilliseconds(10);
    private readonly object _lock = new();
    private readonly long _quota;
    private int _done;

    public ConnectRateWorker(BenchRun run, long quota) : base(0, run)
    {
        _quota = quota;
    }

    public override Task RunAsync(CancellationToken cancellationToken) =>
        RunSlotsAsync(LoopAsync, _lock, _quota, static () => false, cancellationToken);

    private async Task LoopAsync(int index, CancellationToken cancellationToken)
    {
        var seed = BenchPattern.SeedFor(index);
        var size = Run.Options.Size;
        var buffer = new byte[Math.Min(size, BenchPattern.MaxChunk)];
        var timeout = new CancellationTokenSource();
        try
        {
            while (!cancellationToken.IsCancellationRequested && Volatile.Read(ref _done) == 0)
            {
                if (!timeout.TryReset())
                {
                    // The timer fired after the last cycle ended: that source is spent.
                    timeout.Dispose();
                    timeout = new CancellationTokenSource();
                }
                timeout.CancelAfter(Run.Options.ConnectTimeout);
                if (!await CycleAsync(seed, size, buffer, timeout.Token, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            timeout.Dispose();
        }
    }

    /// <summary>One connect, echo, close. Returns false when the run is over.</summary>
    private async Task<bool> CycleAsync(int seed, int size, byte[] buffer, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutToken);
            var start = Stopwatch.GetTimestamp();
            BenchError? error = null;
            long mismatches = 0;
            long connected = 0;
            try
            {
                using var socket = new Socket(Run.Target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(Run.Target, linked.Token).ConfigureAwait(false);
                connected = Stopwatch.GetTimestamp();
                for (long sent = 0; sent < size;)
                {
                    var length = (int)Math.Min(size - sent, BenchPattern.MaxChunk);
                    sent += await socket.SendAsync(BenchPattern.Bytes.AsMemory((int)((seed + sent) % BenchPattern.Period), length), SocketFlags.None, linked.Token).ConfigureAwait(false);
                }
                for (long received = 0; received < size;)
                {
                    var n = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - received)), SocketFlags.None, linked.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        error = BenchError.ClosedByServer;
                        break;
                    }
                    mismatches += BenchPattern.CountMismatches(buffer.AsSpan(0, n), seed, received);
                    received += n;
                }
            }
            catch (SocketException ex)
            {
                error = BenchErrors.FromSocketError(ex.SocketErrorCode);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                error = BenchError.TimedOut;
            }
            catch (OperationCanceledException)
            {
                return false; // the run is over: the cycle in progress is not counted
            }
            var now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                Mismatches += mismatches;
                if (error is { } e)
                {
                    CountError(e);
                }
                else
                {
                    ConnectTime.RecordValue(LatencyHistograms.ToMicroseconds(connected - start));
                    if (IsMeasuring(now) && Messages < _quota)
                    {
                        RecordMessage(now - start, now, size);
                        if (Messages >= _quota)
                        {
                            Volatile.Write(ref _done, 1);
                        }
                    }
                    else if (now < Run.MeasureTicks)
                    {
                        RecordWarmupMessage(now - start, size);
                    }
                }
            }
            if (error is not null)
            {
                try
                {
                    // A refused connect fails at once; pause so a dead server is not hammered in a tight loop.
                    await Task.Delay(ErrorPause, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
