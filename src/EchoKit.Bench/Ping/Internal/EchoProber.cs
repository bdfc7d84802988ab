using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace EchoKit.Ping.Internal;

/// <summary>
/// Echo mode: probes share one connection (TCP, TLS or a Unix socket). When it is missing or has dropped, the probe
/// that needs it opens a new one within its own timeout; probes that come meanwhile wait for that same attempt.
/// </summary>
internal sealed class EchoProber : IProber
{
    private readonly PingOptions _options;
    private readonly TimeProvider _time;
    private readonly IPingEvents _events;
    private readonly PingTarget _target;
    private readonly ulong _tag;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private EchoConnection? _current;
    private Task<ConnectAttempt>? _connecting;
    private bool _everConnected;

    public EchoProber(PingOptions options, TimeProvider time, IPingEvents events, PingTarget target, ulong tag)
    {
        _options = options;
        _time = time;
        _events = events;
        _target = target;
        _tag = tag;
    }

    public async Task<ProbeOutcome> ProbeAsync(long sequence, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        var (found, lookupFailure) = await _target.TryForProbeAsync(sequence, probe.Token, stop).ConfigureAwait(false);
        if (found is not { } address)
        {
            return lookupFailure;
        }

        // A connection can close between taking it and sending on it (an earlier probe's timeout found it silent):
        // nothing went out then, so the probe tries once more on a new connection.
        for (var attempt = 1; ; attempt++)
        {
            var (connection, failure) = await TakeConnectionAsync(address, sequence, probe.Token, stop).ConfigureAwait(false);
            if (connection is null)
            {
                return failure;
            }
            if (await connection.ProbeAsync(sequence, probe.Token, stop).ConfigureAwait(false) is { } outcome)
            {
                return outcome;
            }
            if (attempt == 2)
            {
                return ProbeOutcome.Failed(PingStatus.Error, "the connection closed before the probe was sent", address);
            }
        }
    }

    /// <summary>The open connection to <paramref name="address"/>, or a new one (shared by probes that need one at once).</summary>
    private async Task<(EchoConnection? Connection, ProbeOutcome Failure)> TakeConnectionAsync(
        EndPoint address, long sequence, CancellationToken probeToken, CancellationToken stop)
    {
        Task<ConnectAttempt>? attempt = null;
        EchoConnection? retired = null;
        EchoConnection? connection;
        lock (_gate)
        {
            if (_current is { } current && (!current.IsOpen || !current.Remote.Equals(address)))
            {
                retired = current;
                _current = null;
            }
            connection = _current;
            if (connection is null)
            {
                attempt = _connecting ??= ConnectAsync(address, sequence);
            }
        }
        if (retired is not null)
        {
            if (retired.IsOpen)
            {
                retired.Close("the name now resolves to another address", failWaiting: false);
            }
            await retired.DisposeAsync().ConfigureAwait(false);
        }
        if (attempt is not null)
        {
            ConnectAttempt result;
            try
            {
                result = await attempt.WaitAsync(probeToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                return (null, ProbeOutcome.Failed(PingStatus.Timeout, "connect timed out", address));
            }
            if (result.Connection is null)
            {
                return (null, result.Failure);
            }
            connection = result.Connection;
        }
        return (connection, default);
    }

    private async Task<ConnectAttempt> ConnectAsync(EndPoint address, long sequence)
    {
        // Run the attempt after the caller has stored it (under the lock), so it can clear itself when done.
        await Task.Yield();
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token, timeout.Token);
        ProbeOutcome failure;
        try
        {
            var (socket, stream, connectTime, tlsTime) = await ProbeSockets.ConnectAsync(address, _options, _time, linked.Token).ConfigureAwait(false);
            var connection = new EchoConnection(socket, stream, address, _time, _events, _tag, _options.Size);
            var local = socket.LocalEndPoint;
            connection.Start();
            bool reconnect;
            lock (_gate)
            {
                _current = connection;
                _connecting = null;
                reconnect = _everConnected;
                _everConnected = true;
            }
            _events.Connected(new PingConnected(local, address, connectTime, tlsTime, sequence, reconnect));
            return new ConnectAttempt(connection, default);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_disposed.IsCancellationRequested)
        {
            failure = ProbeOutcome.Failed(PingStatus.Timeout, "connect timed out", address);
        }
        catch (OperationCanceledException)
        {
            failure = ProbeOutcome.Failed(PingStatus.Error, "stopped", address);
        }
        catch (SocketException ex)
        {
            failure = ProbeSockets.Describe(ex.SocketErrorCode, address);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            failure = ProbeOutcome.Failed(PingStatus.Error, ProbeSockets.Reason(ex), address);
        }
        lock (_gate)
        {
            _connecting = null;
        }
        return new ConnectAttempt(null, failure);
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        Task<ConnectAttempt>? connecting;
        lock (_gate)
        {
            connecting = _connecting;
        }
        if (connecting is not null)
        {
            await connecting.ConfigureAwait(false);
        }
        EchoConnection? current;
        lock (_gate)
        {
            current = _current;
            _current = null;
        }
        if (current is not null)
        {
            await current.DisposeAsync().ConfigureAwait(false);
        }
        _disposed.Dispose();
    }
}
