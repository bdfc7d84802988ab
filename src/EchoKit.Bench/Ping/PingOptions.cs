using System.Net;
using System.Net.Sockets;
using EchoKit.Client;
using EchoKit.Endpoints;
using EchoKit.Server;

namespace EchoKit.Ping;

/// <summary>What to probe, how, and how often. Every default is the one the <c>echokit ping</c> command uses.</summary>
public sealed class PingOptions
{
    /// <summary>Bytes a probe needs for its header: the session's random tag and the sequence number.</summary>
    public const int MinSize = 16;

    /// <summary>The largest echo (TCP) probe: a ping, not a transfer.</summary>
    public const int MaxTcpSize = 1024 * 1024;

    /// <summary>The shortest interval between probes.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest timeout or interval accepted.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(1);

    /// <summary>The target host and port. Exactly one of this and <see cref="UnixPath"/> must be set.</summary>
    public EndpointSpec? Endpoint { get; set; }

    /// <summary>A Unix stream socket to probe instead of a host and port (echo or connect mode).</summary>
    public string? UnixPath { get; set; }

    /// <summary>What a probe does. Default <see cref="PingMode.Echo"/>.</summary>
    public PingMode Mode { get; set; } = PingMode.Echo;

    /// <summary>Bytes per echo or UDP probe, header included: at least <see cref="MinSize"/>. Default 32. Not used in connect mode.</summary>
    public int Size { get; set; } = 32;

    /// <summary>Time between the starts of two probes, on a fixed schedule: a slow answer does not push later probes back. Default 1 s; at least 1 ms.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long each probe waits for its answer, on its own timer even when it outlasts the interval. In echo mode it
    /// includes reconnecting when needed; in connect mode, the handshake. Default 1 s.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Probes to send; null (the default) sends until cancelled or until <see cref="Deadline"/>.</summary>
    public long? Count { get; set; }

    /// <summary>Stop this long after the start, whatever the count; probes still waiting then are not counted. Default null: no deadline; at most 24 days (a .NET timer takes at most 49.7).</summary>
    public TimeSpan? Deadline { get; set; }

    /// <summary>Look the name up again before every probe (DNS-based failover, GSLB). Default false: once, at the start.</summary>
    public bool ResolveEach { get; set; }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/> to use only that family. Default: the first address the name gives.</summary>
    public AddressFamily AddressFamily { get; set; } = AddressFamily.Unspecified;

    /// <summary>The local address (and port, if not 0) to send from. Default null: the system chooses.</summary>
    public IPEndPoint? Source { get; set; }

    /// <summary>TLS over the connection (echo: the handshake, then echo; connect: the handshake is part of the probe). Default null: no TLS.</summary>
    public ConnectTlsOptions? Tls { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range or contradicts another.</summary>
    public void Validate()
    {
        if ((Endpoint is null) == (UnixPath is null))
        {
            throw new ArgumentException("give either an endpoint or a Unix socket path", nameof(Endpoint));
        }
        if (UnixPath is { Length: 0 })
        {
            throw new ArgumentException("the Unix socket path is empty", nameof(UnixPath));
        }
        if (Endpoint is { Port: 0 })
        {
            throw new ArgumentException($"port 0 in '{Endpoint}' cannot be probed", nameof(Endpoint));
        }
        if (Interval < MinInterval || Interval > MaxDuration)
        {
            throw new ArgumentException("the interval must be from 1ms to 1h", nameof(Interval));
        }
        if (Timeout <= TimeSpan.Zero || Timeout > MaxDuration)
        {
            throw new ArgumentException("the timeout must be above 0 and at most 1h", nameof(Timeout));
        }
        if (Count is <= 0)
        {
            throw new ArgumentException("the count must be at least 1", nameof(Count));
        }
        if (Deadline is { } deadline && (deadline <= TimeSpan.Zero || deadline > EchoKit.Internal.TimerLimits.Longest))
        {
            throw new ArgumentException("the deadline must be above 0 and at most 24 days", nameof(Deadline));
        }
        var maxSize = Mode == PingMode.Udp ? UdpOptions.MaxIPv4Datagram : MaxTcpSize;
        if (Mode != PingMode.Connect && (Size < MinSize || Size > maxSize))
        {
            throw new ArgumentException($"the size must be from {MinSize} to {maxSize} bytes{(Mode == PingMode.Udp ? " over UDP (one datagram)" : "")}", nameof(Size));
        }
        if (AddressFamily is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("the address family must be IPv4, IPv6 or unspecified", nameof(AddressFamily));
        }
        if (UnixPath is not null)
        {
            if (Mode == PingMode.Udp)
            {
                throw new ArgumentException("UDP probes go to a host and port, not a Unix socket", nameof(UnixPath));
            }
            if (Source is not null || AddressFamily != AddressFamily.Unspecified || ResolveEach)
            {
                throw new ArgumentException("a source address, an address family and re-resolving apply to a host and port, not a Unix socket", nameof(UnixPath));
            }
        }
        if (Source is not null && AddressFamily != AddressFamily.Unspecified && Source.AddressFamily != AddressFamily)
        {
            throw new ArgumentException("the source address is not of the address family asked for", nameof(Source));
        }
        if (Tls is not null)
        {
            if (Mode == PingMode.Udp)
            {
                throw new ArgumentException("TLS works over TCP only (DTLS is not supported)", nameof(Tls));
            }
            Tls.Validate();
        }
    }
}
