using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Server.Reflect;

namespace EchoKit.Probe;

/// <summary>
/// A connected UDP socket to a reflect service: a request datagram out, its answer back. It can set the DSCP it
/// sends and Linux's IP_MTU_DISCOVER=IP_PMTUDISC_PROBE (DF on, the kernel's path MTU ignored) and read IP_MTU.
/// </summary>
internal sealed class ReflectUdpClient : IDisposable
{
    private const int SolIp = 0, IpMtuDiscover = 10, IpMtu = 14, IpTos = 1;
    private const int SolIpv6 = 41, Ipv6MtuDiscover = 23, Ipv6Mtu = 24, Ipv6Tclass = 67;
    private const int PmtuDiscProbe = 3;

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[65536];

    /// <summary>Opens a socket connected to <paramref name="remote"/>.</summary>
    public ReflectUdpClient(IPEndPoint remote)
    {
        Remote = remote;
        _socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Connect(remote);
    }

    /// <summary>The address dialed.</summary>
    public IPEndPoint Remote { get; }

    /// <summary>This end's address and port.</summary>
    public IPEndPoint Local => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>IP header bytes in front of every datagram's payload, with the UDP header: 28 (IPv4) or 48 (IPv6).</summary>
    public int HeaderBytes => Remote.AddressFamily == AddressFamily.InterNetworkV6 ? 48 : 28;

    /// <summary>The TTL / hop limit this socket sends with.</summary>
    public int Ttl => _socket.Ttl;

    /// <summary>Sets the DSCP (0-63) of every datagram sent.</summary>
    public void SetDscp(int dscp)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, dscp << 2);
        if (Remote.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _socket.SetRawSocketOption(SolIpv6, Ipv6Tclass, value);
        }
        else
        {
            _socket.SetRawSocketOption(SolIp, IpTos, value);
        }
    }

    /// <summary>Sends with DF set whatever size, ignoring the path MTU the kernel learned (Linux IP_PMTUDISC_PROBE).</summary>
    public void SetPmtuProbe()
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, PmtuDiscProbe);
        if (Remote.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _socket.SetRawSocketOption(SolIpv6, Ipv6MtuDiscover, value);
        }
        else
        {
            _socket.SetRawSocketOption(SolIp, IpMtuDiscover, value);
        }
    }

    /// <summary>The kernel's path MTU to the server (IP_MTU): the route's MTU, lowered by any ICMP "fragmentation needed".</summary>
    public int? KernelPathMtu()
    {
        Span<byte> value = stackalloc byte[4];
        try
        {
            if (Remote.AddressFamily == AddressFamily.InterNetworkV6)
            {
                _socket.GetRawSocketOption(SolIpv6, Ipv6Mtu, value);
            }
            else
            {
                _socket.GetRawSocketOption(SolIp, IpMtu, value);
            }
            return BinaryPrimitives.ReadInt32LittleEndian(value);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>What one exchange came to.</summary>
    public enum Outcome
    {
        /// <summary>An answer came.</summary>
        Answered,
        /// <summary>Nothing came back in time.</summary>
        Silent,
        /// <summary>The kernel refused the size (EMSGSIZE): an ICMP "fragmentation needed" lowered the path MTU, or the interface's MTU is smaller.</summary>
        TooBig,
        /// <summary>ICMP port unreachable: nothing listens there.</summary>
        Refused,
    }

    /// <summary>
    /// Sends <paramref name="request"/> padded to <paramref name="size"/> bytes and waits up to
    /// <paramref name="timeout"/> for the answer with its id. A reply that is not a reflect answer is a <see cref="ProbeException"/>.
    /// </summary>
    public Task<(Outcome Outcome, ReflectReport? Report, int AnswerSize)> RequestAsync(ReflectRequest request, int size, TimeSpan timeout, CancellationToken cancellationToken)
        => RequestAsync([request], size, timeout, cancellationToken);

    /// <summary>
    /// Sends every one of <paramref name="requests"/> padded to <paramref name="size"/> bytes, back to back, and waits up
    /// to <paramref name="timeout"/> for the first answer to any of them: on a lossy path one answer of several is enough.
    /// </summary>
    public async Task<(Outcome Outcome, ReflectReport? Report, int AnswerSize)> RequestAsync(IReadOnlyList<ReflectRequest> requests, int size, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            foreach (var request in requests)
            {
                await _socket.SendAsync(request.ToLine(size), SocketFlags.None, limit.Token).ConfigureAwait(false);
            }
            while (true)
            {
                var count = await _socket.ReceiveAsync(_buffer, SocketFlags.None, limit.Token).ConfigureAwait(false);
                var data = _buffer.AsSpan(0, count);
                var newline = data.IndexOf((byte)'\n');
                if (!ReflectReport.TryParse(newline >= 0 ? data[..newline] : data, out var report) || (report.Instance is null && report.Error is null))
                {
                    throw new ProbeException($"no reflect service at {EndpointResolver.FormatAddress(Remote)}: the answer is not a reflect answer (is it an echo port? start the server with --reflect-udp)");
                }
                if (report.Error is not null)
                {
                    throw new ProbeException($"the reflect service at {EndpointResolver.FormatAddress(Remote)} refused the request: {PeerText.Field(report.Error)}");
                }
                if (requests.Any(r => r.Id == report.Id))
                {
                    return (Outcome.Answered, report, count);
                }
                // A late answer to an earlier request: keep waiting for ours.
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Outcome.Silent, null, 0);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
        {
            return (Outcome.TooBig, null, 0);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return (Outcome.Refused, null, 0);
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();
}
