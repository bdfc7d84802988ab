using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Ping.Internal;

/// <summary>
/// Where probes go: looked up once before the first probe, or again before each one with
/// <see cref="PingOptions.ResolveEach"/>. Of the addresses a name gives, probes use the first of the family asked
/// for, as ping does.
/// </summary>
internal sealed class PingTarget
{
    private readonly PingOptions _options;
    private readonly TimeProvider _time;
    private readonly IPingEvents _events;
    private readonly Lock _gate = new();
    private EndPoint _current;

    private PingTarget(PingOptions options, TimeProvider time, IPingEvents events, EndPoint first)
    {
        _options = options;
        _time = time;
        _events = events;
        _current = first;
    }

    /// <summary>The address probes go to now.</summary>
    public EndPoint Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Looks the target up; throws <see cref="PingTargetException"/> when it cannot be probed at all.</summary>
    public static async Task<PingTarget> ResolveAsync(PingOptions options, TimeProvider time, IPingEvents events, CancellationToken cancellationToken)
    {
        if (options.UnixPath is { } path)
        {
            var unix = new UnixDomainSocketEndPoint(path);
            events.Resolved(new PingResolved(unix, TimeSpan.Zero, 0));
            return new PingTarget(options, time, events, unix);
        }
        var started = time.GetTimestamp();
        EndPoint first;
        try
        {
            first = await LookUpAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new PingTargetException($"cannot resolve {options.Endpoint!.Host}: {Client.ClientErrors.Describe(ex.SocketErrorCode).Message}", ex);
        }
        events.Resolved(new PingResolved(first, time.GetElapsedTime(started), 0));
        return new PingTarget(options, time, events, first);
    }

    /// <summary>
    /// The address for probe <paramref name="sequence"/>: the one looked up at the start, or a fresh lookup with
    /// <see cref="PingOptions.ResolveEach"/> (a change is reported). Throws <see cref="SocketException"/> or
    /// <see cref="PingTargetException"/> when a fresh lookup fails.
    /// </summary>
    public async ValueTask<EndPoint> ForProbeAsync(long sequence, CancellationToken cancellationToken)
    {
        if (!_options.ResolveEach || _options.UnixPath is not null || sequence == 1)
        {
            return Current;
        }
        var started = _time.GetTimestamp();
        var address = await LookUpAsync(_options, cancellationToken).ConfigureAwait(false);
        bool changed;
        lock (_gate)
        {
            changed = !address.Equals(_current);
            _current = address;
        }
        if (changed)
        {
            _events.Resolved(new PingResolved(address, _time.GetElapsedTime(started), sequence));
        }
        return address;
    }

    /// <summary>
    /// <see cref="ForProbeAsync"/> for a probe: a failed or timed-out lookup becomes the probe's outcome. Cancelling
    /// <paramref name="stop"/> throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async ValueTask<(EndPoint? Address, ProbeOutcome Failure)> TryForProbeAsync(long sequence, CancellationToken probeToken, CancellationToken stop)
    {
        try
        {
            return (await ForProbeAsync(sequence, probeToken).ConfigureAwait(false), default);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return (null, ProbeOutcome.Failed(PingStatus.Timeout, "name lookup timed out", null));
        }
        catch (SocketException ex)
        {
            return (null, ProbeOutcome.Failed(PingStatus.Error, Client.ClientErrors.Describe(ex.SocketErrorCode).Message, null));
        }
        catch (PingTargetException ex)
        {
            return (null, ProbeOutcome.Failed(PingStatus.Error, ex.Message, null));
        }
    }

    private static async Task<EndPoint> LookUpAsync(PingOptions options, CancellationToken cancellationToken)
    {
        var endpoint = options.Endpoint!;
        var addresses = await EndpointResolver.ResolveForConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var family = options.AddressFamily != AddressFamily.Unspecified ? options.AddressFamily : options.Source?.AddressFamily ?? AddressFamily.Unspecified;
        foreach (var address in addresses)
        {
            if (family == AddressFamily.Unspecified || address.AddressFamily == family)
            {
                return address;
            }
        }
        throw new PingTargetException($"{endpoint.Host ?? "this machine"} has no {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
    }
}
