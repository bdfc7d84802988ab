using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Internal;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>A TCP connection to a reflect service (docs/reflect.md): one request line out, one answer line back.</summary>
internal sealed class ReflectClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[ReflectOptions.MaxRequestBytes * 32];
    private int _filled;

    private ReflectClient(Socket socket, IPEndPoint remote)
    {
        _socket = socket;
        Remote = remote;
    }

    /// <summary>The address dialed.</summary>
    public IPEndPoint Remote { get; }

    /// <summary>This end's address and port.</summary>
    public IPEndPoint Local => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>This end's view of the connection (MSS, TCP_INFO); null off Linux.</summary>
    public TcpPathInfo? PathInfo => TcpPathInfo.TryRead(_socket);

    /// <summary>Connects to <paramref name="remote"/> within <paramref name="timeout"/>; failures are <see cref="ProbeException"/>.</summary>
    public static async Task<ReflectClient> ConnectAsync(IPEndPoint remote, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(remote, limit.Token).ConfigureAwait(false);
            return new ReflectClient(socket, remote);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ProbeException($"cannot connect to {EndpointResolver.FormatAddress(remote)}: no answer within {Client.ClientErrors.FormatDuration(timeout)}");
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ProbeException($"cannot connect to {EndpointResolver.FormatAddress(remote)}: {ClientErrorText(ex.SocketErrorCode)}", ex);
        }
    }

    /// <summary>Connects to the first address of <paramref name="endpoint"/> that accepts.</summary>
    public static async Task<ReflectClient> ConnectAsync(EndpointSpec endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(endpoint, cancellationToken).ConfigureAwait(false);
        ProbeException? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await ConnectAsync(address, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (ProbeException ex)
            {
                last = ex;
            }
        }
        throw last ?? new ProbeException($"{endpoint} has no address");
    }

    /// <summary>The addresses of <paramref name="endpoint"/>; a name that does not resolve is a <see cref="ProbeException"/>.</summary>
    public static async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(EndpointSpec endpoint, CancellationToken cancellationToken)
    {
        try
        {
            return await EndpointResolver.ResolveForConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new ProbeException($"cannot resolve {endpoint.Host ?? endpoint.Text}: {ClientErrorText(ex.SocketErrorCode)}", ex);
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and waits up to <paramref name="timeout"/> for its answer. Returns null when
    /// no answer came in time or the connection was lost (what an idle probe looks for); an answer that is not a
    /// reflect answer is a <see cref="ProbeException"/>.
    /// </summary>
    public async Task<ReflectReport?> RequestAsync(ReflectRequest request, TimeSpan timeout, CancellationToken cancellationToken, bool send = true)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            if (send)
            {
                await _socket.SendAsync(request.ToLine(), SocketFlags.None, limit.Token).ConfigureAwait(false);
            }
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', 0, _filled);
                if (newline >= 0)
                {
                    var line = _buffer.AsSpan(0, newline).ToArray();
                    _buffer.AsSpan(newline + 1, _filled - newline - 1).CopyTo(_buffer);
                    _filled -= newline + 1;
                    if (!ReflectReport.TryParse(line, out var report) || (report.Instance is null && report.Error is null))
                    {
                        throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(Remote)}: the answer is not a reflect answer (is it an echo port? start the server with --reflect-tcp)");
                    }
                    if (report.Error is not null)
                    {
                        throw new ProbeException($"the reflect service at {EndpointResolver.FormatAddress(Remote)} refused the request: {PeerText.Field(report.Error)}");
                    }
                    return report;
                }
                if (_filled == _buffer.Length)
                {
                    throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(Remote)}: answer line too long");
                }
                var count = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, limit.Token).ConfigureAwait(false);
                if (count == 0)
                {
                    return null;
                }
                _filled += count;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException ex) when (SocketErrors.IsConnectionResetError(ex.SocketErrorCode))
        {
            return null;
        }
    }

    /// <summary>Closes the connection.</summary>
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static string ClientErrorText(SocketError error) => Client.ClientErrors.Describe(error).Message;
}
