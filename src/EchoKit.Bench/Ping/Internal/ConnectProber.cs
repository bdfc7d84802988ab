using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Client.Internal;

namespace EchoKit.Ping.Internal;

/// <summary>
/// Connect mode (tcping, psping, paping): each probe opens a connection, times connect() (and the TLS handshake when
/// asked), and closes it without sending data. Works against any TCP port; a refusal is told apart from a timeout.
/// </summary>
internal sealed class ConnectProber : IProber
{
    private readonly PingOptions _options;
    private readonly TimeProvider _time;
    private readonly PingTarget _target;

    public ConnectProber(PingOptions options, TimeProvider time, PingTarget target)
    {
        _options = options;
        _time = time;
        _target = target;
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

        Socket socket;
        try
        {
            socket = ProbeSockets.Create(address, SocketType.Stream, _options.Source);
        }
        catch (SocketException ex)
        {
            return ProbeSockets.Describe(ex.SocketErrorCode, address);
        }
        using (socket)
        {
            try
            {
                var started = _time.GetTimestamp();
                await socket.ConnectAsync(address, probe.Token).ConfigureAwait(false);
                if (_options.Tls is { } tls)
                {
                    var ssl = await TlsHandshake.For(tls, _options.Endpoint?.Host).AuthenticateAsync(socket, probe.Token).ConfigureAwait(false);
                    var handshaken = _time.GetElapsedTime(started);
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    return ProbeOutcome.Ok(handshaken, address);
                }
                return ProbeOutcome.Ok(_time.GetElapsedTime(started), address);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                return ProbeOutcome.Failed(PingStatus.Timeout, "timed out", address);
            }
            catch (SocketException ex)
            {
                return ProbeSockets.Describe(ex.SocketErrorCode, address);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                return ProbeOutcome.Failed(PingStatus.Error, ProbeSockets.Reason(ex), address);
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
