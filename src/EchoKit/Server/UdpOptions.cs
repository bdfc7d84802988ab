namespace EchoKit.Server;

/// <summary>
/// Settings for UDP listeners (<see cref="EchoServerOptions.Udp"/>). The defaults are safe to expose on the
/// Internet: datagrams from the source ports of well-known UDP services are never answered (echo reflection and
/// loop attacks: CVE-1999-0103, VU#417980), each source address is rate limited, and the table of sources has a
/// fixed size. docs/udp.md explains each rule.
/// </summary>
public sealed class UdpOptions
{
    /// <summary>The largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header).</summary>
    public const int MaxIPv4Datagram = 65_507;

    /// <summary>The largest UDP payload over IPv6 without jumbograms: 65,535 − 8 (UDP header).</summary>
    public const int MaxIPv6Datagram = 65_527;

    /// <summary>
    /// Source ports never answered by default: 0 (not a valid source; only forged datagrams carry it) and the
    /// UDP services that answer whatever they are sent, so that an echo pointed at them by one spoofed datagram
    /// would loop or reflect: 7 echo, 9 discard, 11 systat, 13 daytime, 17 qotd, 19 chargen, 37 time, 53 dns,
    /// 69 tftp, 111 portmap, 123 ntp, 137 netbios-ns, 161 snmp, 162 snmptrap, 389 cldap, 500 isakmp, 520 rip,
    /// 1900 ssdp, 5353 mdns, 11211 memcached.
    /// </summary>
    public static IReadOnlyList<int> DefaultDenySourcePorts { get; } =
        [0, 7, 9, 11, 13, 17, 19, 37, 53, 69, 111, 123, 137, 161, 162, 389, 500, 520, 1900, 5353, 11211];

    /// <summary>
    /// Receive loops per listener: threads blocked in the kernel, each on a socket of its own with its own buffers
    /// (see <see cref="ReceiveBatch"/>). With more than one (Linux only; elsewhere one loop serves), the sockets
    /// share the port through SO_REUSEPORT and the kernel sends each source address and port to one of them, so
    /// one source's replies always leave in the order its datagrams arrived, and one source is served by one
    /// thread. Default: the processor count, from 1 to 16. Range 1 to 64.
    /// </summary>
    public int ReceiveLoops { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 16);

    /// <summary>
    /// Datagrams each receive loop takes from the kernel per system call on 64-bit Linux (<c>recvmmsg</c>), whose
    /// echoes then go out in one more (<c>sendmmsg</c>); 1 makes one <c>recvfrom</c> and one <c>sendto</c> per
    /// datagram, except on a wildcard address (0.0.0.0, ::), which keeps the batched calls with batches of one: only
    /// they carry each datagram's destination, which its echo leaves from. Each loop holds this many 64 KiB buffers
    /// (so no datagram is ever truncated): 1 MiB at the default.
    /// Default 16. Range 1 to 256.
    /// </summary>
    public int ReceiveBatch { get; set; } = 16;

    /// <summary>
    /// Kernel receive and send buffer size asked for each socket (SO_RCVBUF/SO_SNDBUF), in bytes, so bursts queue
    /// in the kernel instead of being lost. Default 4 MiB. The kernel caps it at net.core.rmem_max/wmem_max unless
    /// the process may force it (CAP_NET_ADMIN). 0 keeps the system default; otherwise 4 KiB to 1 GiB.
    /// </summary>
    public int SocketBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Datagrams from these source ports are dropped without an answer (counted as dropped by rule).
    /// Default <see cref="DefaultDenySourcePorts"/>. An empty set answers every port, including 0: not advised.
    /// </summary>
    public ISet<int> DenySourcePorts { get; } = new SortedSet<int>(DefaultDenySourcePorts);

    /// <summary>
    /// Drop datagrams whose source port is the listener's own port. Two echo servers on the same port, pointed at
    /// each other by one spoofed datagram, would otherwise answer each other for ever (the "loop DoS" of VU#417980).
    /// A real client gets that port only if the OS hands it out as its ephemeral port, and then just retries from
    /// another one. Default true.
    /// </summary>
    public bool DenyOwnPort { get; set; } = true;

    /// <summary>
    /// Datagrams answered per second per source address (a token bucket refilled at this rate); beyond it datagrams
    /// are dropped (counted as dropped by rate). This bounds what a spoofed flood can reflect at any one victim.
    /// Default 1000; 0 turns rate limiting off. Range 0 to 10,000,000.
    /// </summary>
    public int RateLimit { get; set; } = 1000;

    /// <summary>
    /// How many datagrams a source may send at once before the rate applies (the bucket's size). Default 0, which
    /// means the same as <see cref="RateLimit"/> (one second's worth). Range 0 to 10,000,000.
    /// </summary>
    public int RateLimitBurst { get; set; }

    /// <summary>
    /// Whether loopback sources (127.0.0.0/8, ::1) skip the rate limit. They can only come from this machine (the
    /// kernel drops loopback sources arriving from a network), so they cannot be a spoofed victim of reflection;
    /// load tests on one machine need this. The deny list still applies to them. Default true. The <c>echokit</c>
    /// program turns it off when the user gives a rate limit, so an explicit limit applies to every source.
    /// </summary>
    public bool ExemptLoopbackFromRateLimit { get; set; } = true;

    /// <summary>
    /// How many source addresses the listener remembers (for the rate limit and the "first datagram" log line).
    /// The table has this fixed size: when it is full, a new source takes the place of the least recently seen one
    /// in its slot group, so a spoofed flood from many addresses cannot grow memory (about 56 bytes per entry).
    /// Default 16,384. Range 16 to 16,777,216.
    /// </summary>
    public int SourceTableCapacity { get; set; } = 16_384;

    /// <summary>
    /// How often each listener logs its counts (datagrams in, answered, dropped, bytes) when there was traffic.
    /// Per-datagram events are never logged, except with <see cref="EchoServerOptions.Dump"/>. Default 30 s;
    /// from 1 s to 1 day.
    /// </summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many per-source events (a new source's first datagram, a source hitting the rate limit, a datagram
    /// dropped by rule) each listener logs per <see cref="StatsInterval"/>; the rest are only counted, so a flood
    /// from many sources cannot flood the log. Default 20. Range 0 to 10,000.
    /// </summary>
    public int MaxSourceEventsPerInterval { get; set; } = 20;

    /// <summary>The bucket size in effect: <see cref="RateLimitBurst"/>, or <see cref="RateLimit"/> when that is 0.</summary>
    public int EffectiveBurst => RateLimitBurst > 0 ? RateLimitBurst : RateLimit;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (ReceiveLoops is < 1 or > 64)
        {
            throw new ArgumentException($"UDP receive loops must be from 1 to 64, not {ReceiveLoops}", nameof(ReceiveLoops));
        }
        if (ReceiveBatch is < 1 or > 256)
        {
            throw new ArgumentException($"UDP receive batch must be from 1 to 256 datagrams, not {ReceiveBatch}", nameof(ReceiveBatch));
        }
        if (SocketBufferSize != 0 && SocketBufferSize is < 4096 or > 1024 * 1024 * 1024)
        {
            throw new ArgumentException($"UDP socket buffer size must be 0 (system default) or from 4096 to 1073741824 bytes, not {SocketBufferSize}", nameof(SocketBufferSize));
        }
        foreach (var port in DenySourcePorts)
        {
            if (port is < 0 or > 65535)
            {
                throw new ArgumentException($"denied source port {port} is not from 0 to 65535", nameof(DenySourcePorts));
            }
        }
        if (RateLimit is < 0 or > 10_000_000)
        {
            throw new ArgumentException($"UDP rate limit must be from 0 to 10000000 datagrams per second, not {RateLimit}", nameof(RateLimit));
        }
        if (RateLimitBurst is < 0 or > 10_000_000)
        {
            throw new ArgumentException($"UDP rate limit burst must be from 0 to 10000000, not {RateLimitBurst}", nameof(RateLimitBurst));
        }
        if (SourceTableCapacity is < 16 or > 16 * 1024 * 1024)
        {
            throw new ArgumentException($"UDP source table capacity must be from 16 to 16777216, not {SourceTableCapacity}", nameof(SourceTableCapacity));
        }
        if (StatsInterval < TimeSpan.FromSeconds(1) || StatsInterval > TimeSpan.FromDays(1))
        {
            throw new ArgumentException("UDP stats interval must be from 1 s to 1 day", nameof(StatsInterval));
        }
        if (MaxSourceEventsPerInterval is < 0 or > 10_000)
        {
            throw new ArgumentException($"UDP source events per interval must be from 0 to 10000, not {MaxSourceEventsPerInterval}", nameof(MaxSourceEventsPerInterval));
        }
    }
}
