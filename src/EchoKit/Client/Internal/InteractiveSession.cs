using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using EchoKit.Endpoints;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Client.Internal;

/// <summary>
/// One <c>echokit connect</c> session: connect (and TLS), then two loops side by side, input to socket and socket
/// to output, until the peer closes (TCP) or the replies stop after the input ended (UDP). The session owns both
/// loops and awaits both before it reports; the verdict comes from whichever loop saw the cause first.
/// </summary>
internal sealed class InteractiveSession
{
    private readonly EndpointSpec _endpoint;
    private readonly Stream _input;
    private readonly ConnectOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ReceivedDataWriter _writer;
    private readonly InputTranslator _translator;
    private long _start;
    private long _sent;
    private long _received;
    private long _datagramsSent;
    private long _datagramsReceived;
    private bool _inputEnded;
    private EndPoint? _local;
    private EndPoint? _remote;
    private TimeSpan _connectTime;
    private bool _opened;
    private string _localText = "unknown";
    private string _remoteText;

    public InteractiveSession(EndpointSpec endpoint, Stream input, Stream output, ConnectOptions options, ILogger logger, TimeProvider time)
    {
        _endpoint = endpoint;
        _input = input;
        _options = options;
        _logger = logger;
        _time = time;
        _writer = new ReceivedDataWriter(output, options.Encoding, options.HexDump, options.EscapeControls);
        _translator = new InputTranslator(options.Crlf, options.Encoding, options.Udp ? Math.Max(options.BufferSize, options.MaxDatagramSize) : options.BufferSize);
        _remoteText = endpoint.Text;
    }

    private string Transport => _options.Udp ? "udp" : _options.Tls is not null ? "tls" : _options.Transport.UnixSocketPath is not null ? "unix" : "tcp";

    public async Task<ConnectResult> RunAsync(CancellationToken cancellationToken)
    {
        _start = _time.GetTimestamp();
        Socket? socket = null;
        UdpPeer? peer = null;
        Stream? stream = null;
        try
        {
            using (var connectTimeout = new CancellationTokenSource(_options.ConnectTimeout, _time))
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token))
            {
                try
                {
                    if (_options.Udp)
                    {
                        peer = await ConnectDatagramsAsync(connecting.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        socket = await ConnectAsync(connecting.Token).ConfigureAwait(false);
                        stream = _options.Tls is { } tls
                            ? await HandshakeAsync(socket, tls, connecting.Token).ConfigureAwait(false)
                            : new NetworkStream(socket, ownsSocket: false);
                    }
                }
                catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    var limit = ClientErrors.FormatDuration(_options.ConnectTimeout);
                    return Finish(ConnectOutcome.ConnectTimedOut, socket is null ? $"no connection within {limit}" : $"TLS handshake not done within {limit}");
                }
            }
            return peer is not null
                ? await RunDatagramsAsync(peer, cancellationToken).ConfigureAwait(false)
                : await RunStreamAsync(stream!, socket!, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            var (outcome, message) = Describe(ex.SocketErrorCode);
            return Finish(outcome, message);
        }
        catch (AuthenticationException ex)
        {
            if (TlsHandshake.Detail(ex) is { } detail)
            {
                // The one-line reason is the user's; -v also shows .NET's and OpenSSL's words under it.
                ClientLog.TlsHandshakeFailed(_logger, _localText, _remoteText, detail);
            }
            return Finish(ConnectOutcome.TlsFailed, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Finish(ConnectOutcome.Failed, "interrupted");
            throw;
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            socket?.Dispose();
            peer?.Dispose();
            _writer.Dispose();
        }
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        var attempts = new List<ConnectAttempt>();
        Socket socket;
        try
        {
            socket = await EchoConnector.ConnectAsync(_endpoint, _options.Transport, SocketType.Stream, attempts, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The addresses that failed, in the order they were tried, before the one that took the connection.
            foreach (var attempt in attempts)
            {
                AttemptFailed(attempt.Address, attempt.Error);
            }
        }
        Connected(socket);
        return socket;
    }

    /// <summary>
    /// The UDP socket, connected to the name's first address, and moving on to the next while one is refused before it
    /// answered anything (<see cref="UdpPeer"/>): the same addresses, tried in the same order, as send --udp.
    /// </summary>
    private async Task<UdpPeer> ConnectDatagramsAsync(CancellationToken cancellationToken)
    {
        _options.Transport.Validate();
        var addresses = await EchoConnector.ResolveAsync(_endpoint, _options.Transport, cancellationToken).ConfigureAwait(false);
        return await UdpPeer.ConnectAsync(addresses, _options.Transport.LocalEndPoint, AttemptFailed, Connected, cancellationToken).ConfigureAwait(false);
    }

    // In send -v's words: "tried [::1]:7: connection refused".
    private void AttemptFailed(EndPoint address, SocketError error) =>
        ClientLog.ConnectAttemptFailed(_logger, EchoConnector.Format(address), ClientErrors.Describe(error).Message);

    private void Connected(Socket socket)
    {
        _opened = true;
        _local = socket.LocalEndPoint;
        _remote = socket.RemoteEndPoint;
        _localText = EchoConnector.Format(_local);
        _remoteText = EchoConnector.Format(_remote ?? (_options.Transport.UnixSocketPath is { } path ? new UnixDomainSocketEndPoint(path) : null));
        _connectTime = _time.GetElapsedTime(_start);
        ClientLog.ClientConnected(_logger, _localText, _remoteText, Transport, Math.Round(_connectTime.TotalMilliseconds, 3));
    }

    private async Task<DuplexTlsStream> HandshakeAsync(Socket socket, ConnectTlsOptions tls, CancellationToken cancellationToken)
    {
        var handshake = TlsHandshake.For(tls, _options.Transport.UnixSocketPath is null ? _endpoint.Host : null);
        var start = _time.GetTimestamp();
        var ssl = await handshake.AuthenticateDuplexAsync(socket, cancellationToken).ConfigureAwait(false);
        var (protocol, cipher, subject, issuer, notAfter) = TlsHandshake.Describe(ssl.Ssl);
        ClientLog.TlsEstablished(_logger, _localText, _remoteText, protocol, cipher, Math.Round(_time.GetElapsedTime(start).TotalMilliseconds, 3), subject, issuer, notAfter);
        if (tls.SkipValidation)
        {
            ClientLog.TlsValidationSkipped(_logger, _localText, _remoteText, handshake.IgnoredErrors);
        }
        return ssl;
    }

    // ---- TCP (and TLS) ----

    private async Task<ConnectResult> RunStreamAsync(Stream stream, Socket socket, CancellationToken cancellationToken)
    {
        using var idle = new IdleTimer(_options.IdleTimeout, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        var receive = ReceiveStreamAsync(stream, idle, stop.Token);
        var send = SendStreamAsync(stream, socket, idle, stop.Token);

        var first = await Task.WhenAny(receive, send).ConfigureAwait(false);
        if (first == receive || (send.IsFaulted && AsSocketError(send.Exception.InnerException) is null))
        {
            // The peer closed (or the connection or our output failed), or the input broke, or sending failed for a
            // reason the receiving side will never see (a TLS error): nothing more to send, and nothing to wait for.
            // A read of the input still blocked is abandoned (see InputReader).
            await stop.CancelAsync().ConfigureAwait(false);
        }
        // Otherwise the input ended (or a send failed because the peer went away): the receiving side has the verdict.
        var receiveError = await receive.ObserveAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        var sendError = await send.ObserveAsync().ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
        if (receiveError is null)
        {
            return Finish(ConnectOutcome.PeerClosed, "peer closed");
        }
        return Classify(receiveError, sendError, idle);
    }

    private async Task SendStreamAsync(Stream stream, Socket socket, IdleTimer idle, CancellationToken cancellationToken)
    {
        using var reader = new InputReader(_input, _options.BufferSize);
        while (true)
        {
            var chunk = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (chunk.IsEmpty)
            {
                break;
            }
            idle.Touch();
            await SendAsync(stream, _translator.Translate(chunk, final: false), idle, cancellationToken).ConfigureAwait(false);
        }
        await SendAsync(stream, _translator.Translate(ReadOnlyMemory<byte>.Empty, final: true), idle, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _inputEnded, true);
        if (!_options.HalfClose)
        {
            ClientLog.InputEnded(_logger, _localText, _remoteText, Interlocked.Read(ref _sent), "not half-closing; printing until the peer closes");
            return;
        }
        if (stream is DuplexTlsStream tls)
        {
            await tls.ShutdownAsync().ConfigureAwait(false); // close_notify first, or the FIN would look like a truncation attack
        }
        socket.Shutdown(SocketShutdown.Send);
        ClientLog.InputEnded(_logger, _localText, _remoteText, Interlocked.Read(ref _sent), "sent FIN (half-close); printing until the peer closes");
    }

    private async ValueTask SendAsync(Stream stream, ReadOnlyMemory<byte> data, IdleTimer idle, CancellationToken cancellationToken)
    {
        if (data.IsEmpty)
        {
            return;
        }
        await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _sent, data.Length);
        idle.Touch();
    }

    private async Task ReceiveStreamAsync(Stream stream, IdleTimer idle, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_options.BufferSize);
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, _options.BufferSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await _writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                Interlocked.Add(ref _received, read);
                idle.Touch();
                await _writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---- UDP ----

    private async Task<ConnectResult> RunDatagramsAsync(UdpPeer peer, CancellationToken cancellationToken)
    {
        using var idle = new IdleTimer(_options.IdleTimeout, _time);
        using var replies = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, replies.Token);
        var receive = ReceiveDatagramsAsync(peer, idle, replies, receiving.Token, stop.Token);
        var send = SendDatagramsAsync(peer, idle, replies, stop.Token);

        var first = await Task.WhenAny(receive, send).ConfigureAwait(false);
        if (first == receive || !send.IsCompletedSuccessfully)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
        // Otherwise the input ended and armed the reply timer: the receiver ends when the replies stop.
        var receiveError = await receive.ObserveAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        var sendError = await send.ObserveAsync().ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
        if (receiveError is OperationCanceledException && replies.IsCancellationRequested && sendError is null && !idle.Fired)
        {
            return Finish(ConnectOutcome.RepliesEnded, $"input ended and no datagram came for {ClientErrors.FormatDuration(_options.ReplyTimeout)}");
        }
        return Classify(receiveError, sendError, idle);
    }

    private async Task SendDatagramsAsync(UdpPeer peer, IdleTimer idle, CancellationTokenSource replies, CancellationToken cancellationToken)
    {
        var max = _options.MaxDatagramSize;
        var line = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            using var reader = new InputReader(_input, _options.BufferSize);
            var length = 0;
            while (true)
            {
                var chunk = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (chunk.IsEmpty)
                {
                    break;
                }
                idle.Touch();
                while (!chunk.IsEmpty)
                {
                    var newline = chunk.Span.IndexOf((byte)'\n');
                    var take = newline < 0 ? chunk.Length : newline + 1;
                    if (length + take > max)
                    {
                        throw new InputReadException($"an input line is longer than {max} bytes, the most one datagram carries");
                    }
                    chunk[..take].CopyTo(line.AsMemory(length));
                    length += take;
                    chunk = chunk[take..];
                    if (newline >= 0)
                    {
                        await SendDatagramAsync(peer, line.AsMemory(0, length), idle, cancellationToken).ConfigureAwait(false);
                        length = 0;
                    }
                }
            }
            if (length > 0)
            {
                await SendDatagramAsync(peer, line.AsMemory(0, length), idle, cancellationToken).ConfigureAwait(false);
            }
            Volatile.Write(ref _inputEnded, true);
            replies.CancelAfter(_options.ReplyTimeout);
            ClientLog.InputEnded(_logger, _localText, _remoteText, Interlocked.Read(ref _sent),
                $"printing datagrams until none comes for {ClientErrors.FormatDuration(_options.ReplyTimeout)}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(line);
        }
    }

    private async ValueTask SendDatagramAsync(UdpPeer peer, ReadOnlyMemory<byte> line, IdleTimer idle, CancellationToken cancellationToken)
    {
        var data = _translator.Translate(line, final: true);
        if (data.Length > _options.MaxDatagramSize)
        {
            throw new InputReadException($"a line is {data.Length} bytes once encoded, more than the {_options.MaxDatagramSize} one datagram carries");
        }
        await peer.SendAsync(data, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _sent, data.Length);
        Interlocked.Increment(ref _datagramsSent);
        idle.Touch();
    }

    private async Task ReceiveDatagramsAsync(UdpPeer peer, IdleTimer idle, CancellationTokenSource replies, CancellationToken receiveToken, CancellationToken outputToken)
    {
        const int MaxDatagram = 65536;
        var buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            while (true)
            {
                // An empty datagram is a datagram (read 0 is not an end here).
                var read = await peer.ReceiveAsync(buffer.AsMemory(0, MaxDatagram), receiveToken).ConfigureAwait(false);
                Interlocked.Add(ref _received, read);
                Interlocked.Increment(ref _datagramsReceived);
                idle.Touch();
                if (Volatile.Read(ref _inputEnded))
                {
                    replies.CancelAfter(_options.ReplyTimeout);
                }
                // The reply timer must not cut a datagram's output in half: writing obeys only the session's stop.
                await _writer.WriteDatagramAsync(buffer.AsMemory(0, read), outputToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---- verdicts ----

    private ConnectResult Classify(Exception? receiveError, Exception? sendError, IdleTimer idle)
    {
        if (idle.Fired)
        {
            return Finish(ConnectOutcome.IdleTimedOut, $"idle for {ClientErrors.FormatDuration(_options.IdleTimeout!.Value)}");
        }
        if (receiveError is OutputWriteException output)
        {
            return Finish(ConnectOutcome.OutputFailed, $"cannot write output: {output.Message}");
        }
        if (sendError is InputReadException input)
        {
            return Finish(ConnectOutcome.InputFailed, input.Message);
        }
        foreach (var error in (ReadOnlySpan<Exception?>)[receiveError, sendError])
        {
            if (AsSocketError(error) is { } socketError)
            {
                var (outcome, message) = Describe(socketError);
                ClientLog.ClientReset(_logger, _localText, _remoteText, message);
                return Finish(outcome, message);
            }
        }
        var unexpected = receiveError is not (null or OperationCanceledException) ? receiveError : sendError;
        if (unexpected is IOException io)
        {
            // TLS trouble after the handshake (a bad record, a truncated stream): the peer's fault, in one line.
            return Finish(ConnectOutcome.Failed, io.Message.ReplaceLineEndings(" "));
        }
        if (unexpected is not null and not OperationCanceledException)
        {
            ClientLog.ClientFault(_logger, _localText, _remoteText, unexpected);
            return Finish(ConnectOutcome.Failed, unexpected.Message.ReplaceLineEndings(" "));
        }
        return Finish(ConnectOutcome.Failed, "stopped");
    }

    private static SocketError? AsSocketError(Exception? error) => error switch
    {
        SocketException se => se.SocketErrorCode,
        IOException { InnerException: SocketException se } => se.SocketErrorCode,
        _ => null,
    };

    private (ConnectOutcome Outcome, string Message) Describe(SocketError error)
    {
        if (error is SocketError.NotConnected or SocketError.NetworkReset)
        {
            // Once connected, ENOTCONN means the connection was torn down under us: a reset whose ECONNRESET was
            // reported to another call first (Linux reports it once).
            error = SocketError.ConnectionReset;
        }
        var (outcome, message) = ClientErrors.Describe(error);
        var mapped = outcome switch
        {
            ExchangeOutcome.Refused => ConnectOutcome.Refused,
            ExchangeOutcome.HostNotFound => ConnectOutcome.HostNotFound,
            ExchangeOutcome.Unreachable => ConnectOutcome.Unreachable,
            ExchangeOutcome.Reset => ConnectOutcome.Reset,
            _ => ConnectOutcome.Failed,
        };
        if (mapped == ConnectOutcome.Refused && _options.Udp)
        {
            message = "connection refused (ICMP port unreachable: nothing listens on that UDP port)";
        }
        if (_local is null && _options.Transport.UnixSocketPath is { } path && ClientErrors.DescribeUnix(error, path) is { } unix)
        {
            message = unix;
        }
        return (mapped, message);
    }

    private ConnectResult Finish(ConnectOutcome outcome, string message)
    {
        var duration = _time.GetElapsedTime(_start);
        var sent = Interlocked.Read(ref _sent);
        var received = Interlocked.Read(ref _received);
        // A connection that never opened gets no "closed" line: the attempts logged said why, and "closed unknown ->
        // ...: sent 0 B" would say nothing.
        if (_opened && _options.Udp)
        {
            ClientLog.DatagramsEnded(_logger, _localText, _remoteText, message, Interlocked.Read(ref _datagramsSent), sent,
                Interlocked.Read(ref _datagramsReceived), received, (long)duration.TotalMilliseconds);
        }
        else if (_opened)
        {
            ClientLog.ClientClosed(_logger, _localText, _remoteText, message, sent, received, (long)duration.TotalMilliseconds);
        }
        return new ConnectResult
        {
            Outcome = outcome,
            Message = message,
            BytesSent = sent,
            BytesReceived = received,
            DatagramsSent = Interlocked.Read(ref _datagramsSent),
            DatagramsReceived = Interlocked.Read(ref _datagramsReceived),
            LocalEndPoint = _local,
            RemoteEndPoint = _remote,
            ConnectTime = _connectTime,
            Duration = duration,
        };
    }
}
