using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EchoKit.Bench.Internal;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Internal.Linux;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EchoKit.Bench;

/// <summary>
/// Runs a load against an echo server and measures it truthfully: every echoed byte is checked, every message's
/// latency goes into a histogram, errors are counted by reason and never end the run.
/// </summary>
/// <remarks>
/// Layout: the runner resolves the target, starts one worker loop per core (<c>Internal/TcpWorker</c>,
/// <c>UdpWorker</c>; <c>ConnectRateWorker</c> for connection rate), each driving its share of the connections from
/// its own epoll set with its own histograms, and meanwhile adds up the workers' per-second samples
/// (<c>SampleAggregator</c>) for the live line and the timeline. At the end it adds the workers' histograms and
/// counts into one <see cref="BenchResult"/>. TCP and UDP load need Linux (epoll); connect-rate mode runs anywhere.
/// </remarks>
public static class BenchRunner
{
    /// <summary>
    /// Runs the load described by <paramref name="options"/> and returns what was measured. Cancelling stops the
    /// run early and returns what was measured so far, marked <see cref="BenchResult.Interrupted"/>.
    /// </summary>
    /// <param name="options">The load; validated here.</param>
    /// <param name="onStart">Called once, before any load, with the parameters the result will carry, once the target answered (for a stream of events: start, intervals, end).</param>
    /// <param name="onSample">Called once per sample interval (warm-up ones included), in order, from the runner's sample thread (never from a worker loop).</param>
    /// <param name="loggerFactory">Where start and end events go; none by default.</param>
    /// <param name="cancellationToken">Stops the run early.</param>
    /// <exception cref="PlatformNotSupportedException">TCP or UDP load on a system other than Linux.</exception>
    /// <exception cref="SocketException">The endpoint's host name does not resolve.</exception>
    /// <exception cref="BenchConnectException">No connection could be made within the connect timeout (the run did not start).</exception>
    public static async Task<BenchResult> RunAsync(BenchOptions options, Action<BenchParameters>? onStart = null, Action<BenchSample>? onSample = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Mode != BenchMode.ConnectRate && !LinuxNative.IsSupported)
        {
            throw new PlatformNotSupportedException("TCP and UDP load generation needs Linux (epoll); --connect-rate runs anywhere");
        }
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("EchoKit.Bench");
        var target = await ChooseTargetAsync(options, cancellationToken).ConfigureAwait(false);
        var address = target is IPEndPoint ip ? EndpointResolver.FormatAddress(ip) : options.UnixPath!;
        CheckDescriptors(options, address);
        BenchLog.BenchStarted(logger, ModeName(options.Mode), address, options.Connections, options.Pipeline, options.Size);

        SampleAggregator.Prime(options, target); // before the clock starts: see there
        // Two interval recorders per worker: enough that no interval's end in a worker's loop allocates one.
        var recorders = Enumerable.Range(0, 2 * options.EffectiveWorkers).Select(_ => new LatencyRecorder()).ToArray();
        var run = new BenchRun(options, target, Stopwatch.GetTimestamp(), recorders);
        var workers = CreateWorkers(run);
        onStart?.Invoke(Parameters(options, address, workers.Length));
        // Workers post their per-interval samples (a queue write that wakes nobody, once a second each); the runner's
        // sample thread picks them up just after each interval's end and adds them up (SampleAggregator.PumpAsync), so
        // a worker's loop never does that work, nor pays for waking the thread that does.
        var aggregator = new SampleAggregator(run, onSample);
        run.Aggregator = aggregator;
        Task all;
        using (cancellationToken.Register(() => run.Stop = true))
        {
            all = Task.WhenAll(workers.Select(w => w.RunAsync(cancellationToken)));
            var pump = aggregator.PumpAsync();
            try
            {
                await all.ConfigureAwait(false);
            }
            finally
            {
                aggregator.Complete();
                await pump.ConfigureAwait(false);
            }
        }
        double? cpuPercent = null;
        if (run.MeasureCpuStart is { } c && Stopwatch.GetTimestamp() - c.Ticks > Stopwatch.Frequency / 10)
        {
            var wall = (double)(Stopwatch.GetTimestamp() - c.Ticks) / Stopwatch.Frequency;
            cpuPercent = Math.Round(100 * (Environment.CpuUsage.TotalTime - c.Cpu).TotalSeconds / wall, 1);
        }
        var stalled = workers.Any(w => w.Stalled);

        var result = Collect(run, workers, aggregator, address, interrupted: cancellationToken.IsCancellationRequested, cpuPercent, stalled);
        BenchLog.BenchFinished(logger, ModeName(options.Mode), address, result.Messages, result.Seconds, result.Errors, result.Mismatches);
        return result;
    }

    /// <summary>The error reason recorded when a message-count run ended because nothing completed for <see cref="BenchOptions.StallTimeout"/>.</summary>
    public const string StalledReason = "stalled";

    /// <summary>The name a mode has in JSON and reports: tcp, udp, connect-rate.</summary>
    public static string ModeName(BenchMode mode) => mode switch
    {
        BenchMode.Udp => "udp",
        BenchMode.ConnectRate => "connect-rate",
        _ => "tcp",
    };

    private static BenchWorker[] CreateWorkers(BenchRun run)
    {
        var options = run.Options;
        var quota = options.Messages ?? long.MaxValue;
        if (options.Mode == BenchMode.ConnectRate)
        {
            return [new ConnectRateWorker(run, quota)];
        }
        if (options.Tls is not null)
        {
            return [new TlsWorker(run, quota)];
        }
        var workers = new BenchWorker[run.Workers];
        var first = 0;
        for (var w = 0; w < workers.Length; w++)
        {
            // Connections are split in proportion, the first workers taking the remainders; a message count is not
            // split: the workers take their messages from the run's shared budget as they go (MessageBudget).
            var count = options.Connections / workers.Length + (w < options.Connections % workers.Length ? 1 : 0);
            workers[w] = options.Mode == BenchMode.Udp
                ? new UdpWorker(w, run, first, count)
                : new TcpWorker(w, run, first, count);
            first += count;
        }
        return workers;
    }

    /// <summary>
    /// The stretch of time the rate is taken over. A run for a duration measures from the end of the warm-up until the
    /// duration is up (or the workers stopped). A run for a message count (-n) that completed measures the counted
    /// messages' own stretch: from the earliest start of any of them (if that came after measuring began) to the last
    /// one's end.
    /// With no warm-up, measuring begins before the connections are made, and a short run (-n 100) would otherwise
    /// count the connects, and the compilation before the first send, as time the server took.
    /// </summary>
    /// <param name="measureTicks">When measuring began (the end of the ramp and the warm-up).</param>
    /// <param name="endTicks">When a duration run's measuring ends.</param>
    /// <param name="stopTicks">When the last worker stopped.</param>
    /// <param name="firstStartTicks">The earliest start of a measured message; long.MaxValue if none.</param>
    /// <param name="lastRecordTicks">When the last measured message completed.</param>
    /// <param name="countMode">A message-count run that reached its count.</param>
    internal static (long Begin, long End) MeasuredWindow(long measureTicks, long endTicks, long stopTicks, long firstStartTicks, long lastRecordTicks, bool countMode) =>
        countMode
            ? (firstStartTicks == long.MaxValue ? measureTicks : Math.Max(measureTicks, firstStartTicks), lastRecordTicks)
            : (measureTicks, Math.Min(stopTicks, endTicks));

    private static BenchResult Collect(BenchRun run, BenchWorker[] workers, SampleAggregator aggregator, string address, bool interrupted, double? cpuPercent, bool stalled)
    {
        var options = run.Options;
        var latency = LatencyHistograms.Create();
        var connect = LatencyHistograms.Create();
        var errors = new long[BenchErrors.Count];
        long messages = 0, bytes = 0, mismatches = 0, lastRecord = 0, stop = 0, firstStart = long.MaxValue;
        var udp = new UdpStats(0, 0, 0, 0, 0);
        foreach (var worker in workers)
        {
            latency.Add(worker.Latency);
            connect.Add(worker.ConnectTime);
            messages += worker.Messages;
            bytes += worker.Bytes;
            mismatches += worker.Mismatches;
            lastRecord = Math.Max(lastRecord, worker.LastRecordTicks);
            firstStart = Math.Min(firstStart, worker.FirstRecordStartTicks);
            stop = Math.Max(stop, worker.StopTicks);
            for (var i = 0; i < errors.Length; i++)
            {
                errors[i] += worker.Errors[i];
            }
            udp += new UdpStats(worker.UdpSent, worker.UdpLost, worker.UdpDuplicated, worker.UdpReordered, worker.UdpLate);
        }
        var (begin, end) = MeasuredWindow(run.MeasureTicks, run.EndTicks, stop, firstStart, lastRecord, countMode: options.Messages is not null && !interrupted && !stalled);
        var seconds = Math.Max(0, (double)(end - begin) / Stopwatch.Frequency);
        var byReason = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (stalled)
        {
            byReason[StalledReason] = 1;
        }
        for (var i = 0; i < errors.Length; i++)
        {
            if (errors[i] > 0)
            {
                byReason[BenchErrors.Name((BenchError)i)] = errors[i];
            }
        }
        return new BenchResult
        {
            Parameters = Parameters(options, address, workers.Length),
            Messages = messages,
            Bytes = bytes,
            Seconds = seconds,
            MessagesPerSecond = seconds > 0 ? messages / seconds : 0,
            ErrorsByReason = byReason,
            Mismatches = mismatches,
            Latency = latency,
            ConnectTime = connect,
            Timeline = aggregator.Timeline,
            Udp = options.Mode == BenchMode.Udp ? udp : null,
            Interrupted = interrupted,
            GeneratorCpuPercent = cpuPercent,
        };
    }

    private static BenchParameters Parameters(BenchOptions options, string address, int workers) => new()
    {
        Mode = ModeName(options.Mode),
        Endpoint = options.UnixPath is { } path ? $"unix:{path}" : options.Endpoint!.Text,
        Address = address,
        Connections = options.Connections,
        Pipeline = options.Pipeline,
        Size = options.Size,
        DurationSeconds = options.Messages is null ? options.Duration.TotalSeconds : null,
        MessagesTarget = options.Messages,
        WarmupSeconds = options.Warmup.TotalSeconds,
        Rate = options.Rate,
        Workers = workers,
        Transport = options.TransportName,
        ConnectionLifetimeSeconds = options.ConnectionLifetime?.TotalSeconds,
        MessagesPerConnection = options.MessagesPerConnection,
        RampSeconds = options.Ramp.TotalSeconds,
    };

    /// <summary>Descriptors kept free beside the connections: the workers' epoll and wake descriptors, and the runtime's.</summary>
    private const int SpareDescriptors = 16;

    /// <summary>
    /// Refuses a run whose connections cannot all be open at once under the process's descriptor limit. Without this the
    /// workers would fill the descriptor table and keep retrying connects with EMFILE, and the .NET runtime, which needs
    /// a descriptor to start a thread, could no longer end the run.
    /// </summary>
    private static void CheckDescriptors(BenchOptions options, string address)
    {
        if (options.Mode == BenchMode.ConnectRate || Libc.Descriptors() is not { } descriptors)
        {
            return; // connect-rate holds one connection at a time
        }
        var (limit, free) = descriptors;
        if (options.Connections + SpareDescriptors > free)
        {
            var needed = limit - free + options.Connections + SpareDescriptors;
            throw new BenchConnectException(address,
                $"{options.Connections} connections need about {needed} open files, but this process may open {limit} (ulimit -n): raise the limit or use at most {Math.Max(0, free - SpareDescriptors)} connections");
        }
    }

    /// <summary>
    /// The address to load, proven to accept before any load starts. A name may resolve to several (localhost:
    /// 127.0.0.1 and ::1); stream modes try each in turn and take the first that accepts (with TLS: completes the
    /// handshake), as a client would, so a server listening on one family only is still found. When none does within
    /// the connect timeout, the run fails at once with the reason (refused, timed out, unreachable) instead of
    /// counting errors for its whole duration. UDP has no connection to prove.
    /// </summary>
    private static async Task<EndPoint> ChooseTargetAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        if (options.UnixPath is { } path)
        {
            var unix = new UnixDomainSocketEndPoint(path);
            var failure = await ProbeAsync(unix, options, cancellationToken).ConfigureAwait(false);
            return failure is null ? unix : throw new BenchConnectException(path, failure.Value.Reason, failure.Value.Error);
        }
        var addresses = await EndpointResolver.ResolveForConnectAsync(options.Endpoint!, cancellationToken).ConfigureAwait(false);
        if (options.Mode == BenchMode.Udp)
        {
            return addresses[0];
        }
        (string Reason, Exception Error)? first = null;
        foreach (var address in addresses)
        {
            var failure = await ProbeAsync(address, options, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return address;
            }
            first ??= failure;
        }
        throw new BenchConnectException(EndpointResolver.FormatAddress(addresses[0]), first!.Value.Reason, first.Value.Error);
    }

    /// <summary>One connect (and TLS handshake) within the connect timeout; null when it worked, else why not.</summary>
    private static async Task<(string Reason, Exception Error)?> ProbeAsync(EndPoint address, BenchOptions options, CancellationToken cancellationToken)
    {
        var protocol = address is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp;
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, protocol);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await probe.ConnectAsync(address, timeout.Token).ConfigureAwait(false);
            if (options.Tls is { } tls)
            {
                var handshake = EchoKit.Client.Internal.TlsHandshake.For(tls, options.Endpoint?.Host);
                await using var ssl = await handshake.AuthenticateAsync(probe, timeout.Token).ConfigureAwait(false);
            }
            return null;
        }
        catch (SocketException ex)
        {
            var reason = BenchErrors.FromSocketError(ex.SocketErrorCode) switch
            {
                BenchError.Refused => "refused",
                BenchError.TimedOut => "timed out",
                BenchError.Unreachable => "unreachable",
                _ when ex.SocketErrorCode == SocketError.AddressNotAvailable && address is UnixDomainSocketEndPoint => "no such socket",
                _ => ex.Message,
            };
            return (reason, ex);
        }
        catch (System.Security.Authentication.AuthenticationException ex)
        {
            return (ex.Message, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ($"timed out after {options.ConnectTimeout.TotalSeconds:0.###} s", ex);
        }
    }
}
