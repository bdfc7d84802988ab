using System.Net;
using System.Net.Sockets;

namespace EchoKit.Client.Internal;

/// <summary>
/// The socket of <c>connect --udp</c>, which moves on to the name's next address when the one it is connected to
/// turns out to have nothing listening (an ICMP port unreachable, reported as ECONNREFUSED by the next send or
/// receive) before any datagram came from it, as <c>send --udp</c> does: <c>localhost</c> is <c>::1</c> first, and a
/// server bound to 127.0.0.1 alone refuses there. UDP's connect() sends nothing, so a refusal is only known after a
/// datagram went: the datagrams sent to an address are kept until it answers, and sent again to the next address.
/// At most <see cref="MaxKept"/> are kept; past that, or once an answer came, the address is final and a refusal is
/// the session's verdict, as it was for a single address.
/// </summary>
internal sealed class UdpPeer : IDisposable
{
    /// <summary>Datagrams kept for sending again: a refusal comes back within a round trip, long before this many.</summary>
    private const int MaxKept = 64;

    private readonly IReadOnlyList<EndPoint> _addresses;
    private readonly IPEndPoint? _local;
    private readonly Action<EndPoint, SocketError> _failed;
    private readonly Action<Socket> _connected;
    // Held while sending and while moving on, so a datagram never goes out half-way through a move.
    private readonly SemaphoreSlim _moving = new(1, 1);
    private readonly List<byte[]> _kept = [];
    private Socket _socket;
    private int _current;
    private bool _final;

    private UdpPeer(IReadOnlyList<EndPoint> addresses, IPEndPoint? local, Socket socket, int current, Action<EndPoint, SocketError> failed, Action<Socket> connected)
    {
        _addresses = addresses;
        _local = local;
        _socket = socket;
        _current = current;
        _failed = failed;
        _connected = connected;
        _final = current == addresses.Count - 1;
    }

    /// <summary>
    /// Connects a datagram socket to the first of <paramref name="addresses"/> that takes it. Each address that fails
    /// is reported to <paramref name="failed"/>, each socket connected to <paramref name="connected"/>, in order (also
    /// later, when the peer moves on). Throws <see cref="SocketException"/> with the last error when none does.
    /// </summary>
    public static async Task<UdpPeer> ConnectAsync(IReadOnlyList<EndPoint> addresses, IPEndPoint? local, Action<EndPoint, SocketError> failed, Action<Socket> connected, CancellationToken cancellationToken)
    {
        var (socket, index, error) = await ConnectFromAsync(addresses, 0, local, failed, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            throw new SocketException((int)error);
        }
        connected(socket);
        return new UdpPeer(addresses, local, socket, index, failed, connected);
    }

    /// <summary>The socket connected now (another after a move).</summary>
    public Socket Socket => Volatile.Read(ref _socket);

    /// <summary>Sends one datagram to the current address, moving on first when it is found refused.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
    {
        await _moving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var socket = _socket;
                try
                {
                    await socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    Keep(datagram);
                    return;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    if (!await MoveOnAsync(socket, cancellationToken).ConfigureAwait(false))
                    {
                        throw;
                    }
                    // Moved to the next address with what was kept: send this datagram there too.
                }
            }
        }
        finally
        {
            _moving.Release();
        }
    }

    /// <summary>Receives the next datagram from the current address; a refusal moves on first while it can.</summary>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var socket = Socket;
            try
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                Settle();
                return received;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                await _moving.WaitAsync(cancellationToken).ConfigureAwait(false);
                bool moved;
                try
                {
                    // The sender may have moved on already, on the same refusal: then go on with its socket.
                    moved = socket != _socket || await MoveOnAsync(socket, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _moving.Release();
                }
                if (!moved)
                {
                    throw;
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted } && socket != Socket)
            {
                // The sender moved on and closed the socket this receive waited on: receive on the new one.
            }
        }
    }

    /// <summary>
    /// With <see cref="_moving"/> held: the current address refused. Connects to the next one that takes it and sends
    /// it what was kept; false when the address is final (an answer came, too much was sent, no address is left).
    /// </summary>
    private async Task<bool> MoveOnAsync(Socket refused, CancellationToken cancellationToken)
    {
        while (true)
        {
            byte[][] resend;
            lock (_kept)
            {
                if (_final)
                {
                    return false;
                }
                resend = [.. _kept];
                _kept.Clear();
            }
            _failed(_addresses[_current], SocketError.ConnectionRefused);
            var (socket, index, _) = await ConnectFromAsync(_addresses, _current + 1, _local, _failed, cancellationToken).ConfigureAwait(false);
            if (socket is null)
            {
                return false; // no address left that takes a socket: the refusal stands
            }
            Volatile.Write(ref _socket, socket);
            _current = index;
            lock (_kept)
            {
                _final = index == _addresses.Count - 1;
            }
            refused.Dispose();
            _connected(socket);
            try
            {
                foreach (var datagram in resend)
                {
                    await socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    Keep(datagram);
                }
                return true;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Refused here too, at once: on to the next, with the same datagrams.
                lock (_kept)
                {
                    _kept.Clear();
                    _kept.AddRange(resend);
                }
                refused = socket;
            }
        }
    }

    /// <summary>The first address from <paramref name="start"/> on that takes a socket; each that fails is reported.</summary>
    private static async Task<(Socket? Socket, int Index, SocketError LastError)> ConnectFromAsync(IReadOnlyList<EndPoint> addresses, int start, IPEndPoint? local,
        Action<EndPoint, SocketError> failed, CancellationToken cancellationToken)
    {
        var last = SocketError.HostNotFound;
        for (var index = start; index < addresses.Count; index++)
        {
            var address = addresses[index];
            if (await EchoConnector.ConnectOneAsync(address, local, SocketType.Dgram, null, cancellationToken, e => last = e).ConfigureAwait(false) is { } socket)
            {
                return (socket, index, SocketError.Success);
            }
            failed(address, last);
        }
        return (null, -1, last);
    }

    /// <summary>Keeps a copy of a datagram sent while the address may still turn out refused.</summary>
    private void Keep(ReadOnlyMemory<byte> datagram)
    {
        lock (_kept)
        {
            if (_final)
            {
                return;
            }
            if (_kept.Count == MaxKept)
            {
                // Too much to send again: this address is the one, refused or not.
                _final = true;
                _kept.Clear();
                return;
            }
            _kept.Add(datagram.ToArray());
        }
    }

    /// <summary>A datagram came: something answers at this address, which is final.</summary>
    private void Settle()
    {
        lock (_kept)
        {
            _final = true;
            _kept.Clear();
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        _moving.Dispose();
    }
}
