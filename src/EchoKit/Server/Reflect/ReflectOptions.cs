using EchoKit.Endpoints;

namespace EchoKit.Server.Reflect;

/// <summary>
/// Settings of the reflect service (docs/reflect.md): listeners of their own that answer each request with what the
/// server observed about it. Every default is bounded, so the service is safe to expose.
/// </summary>
public sealed class ReflectOptions
{
    /// <summary>Longest request line (TCP) or datagram (UDP) read; a longer line closes the connection. Default 4096 bytes.</summary>
    public const int MaxRequestBytes = 4096;

    /// <summary>TCP endpoints to answer reflect requests on. Empty by default (no reflect service).</summary>
    public IList<EndpointSpec> TcpEndpoints { get; } = new List<EndpointSpec>();

    /// <summary>UDP endpoints to answer reflect requests on; the UDP echo's deny list and rate limit apply. Empty by default.</summary>
    public IList<EndpointSpec> UdpEndpoints { get; } = new List<EndpointSpec>();

    /// <summary>The name this server reports as <c>instance</c>. Default the host name; 1 to 64 printable ASCII characters.</summary>
    public string InstanceId { get; set; } = Environment.MachineName;

    /// <summary>
    /// Longest a "hold" request may ask the server to wait before it answers. Default 1 hour; 1 s to 1 day.
    /// A TCP reflect connection with no request for this long is closed too.
    /// </summary>
    public TimeSpan MaxHold { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Reflect connections (TCP) open at once; one more is closed unanswered. Default 1024; 1 to 1,000,000.</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>UDP "hold" answers pending at once over all sources; more are refused. Default 1024; 1 to 1,000,000.</summary>
    public int MaxPendingHolds { get; set; } = 1024;

    /// <summary>Requests one TCP connection may make per second (bucket of this size); beyond it the connection is closed. Default 50; 1 to 10,000.</summary>
    public int RequestsPerSecond { get; set; } = 50;

    /// <summary>Most bytes an "echo" request may ask for on TCP (UDP answers are never larger than their request). Default 65536; 0 to 1 MiB.</summary>
    public int MaxEchoBytes { get; set; } = 64 * 1024;

    /// <summary>True when any reflect listener is configured.</summary>
    public bool HasEndpoints => TcpEndpoints.Count > 0 || UdpEndpoints.Count > 0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(InstanceId) || InstanceId.Length > 64 || InstanceId.Any(c => c is < '!' or > '~'))
        {
            throw new ArgumentException("instance id must be 1 to 64 printable ASCII characters without spaces", nameof(InstanceId));
        }
        if (MaxHold < TimeSpan.FromSeconds(1) || MaxHold > TimeSpan.FromDays(1))
        {
            throw new ArgumentException("reflect max hold must be from 1 s to 1 day", nameof(MaxHold));
        }
        if (MaxConnections is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"reflect max connections must be from 1 to 1000000, not {MaxConnections}", nameof(MaxConnections));
        }
        if (MaxPendingHolds is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"reflect max pending holds must be from 1 to 1000000, not {MaxPendingHolds}", nameof(MaxPendingHolds));
        }
        if (RequestsPerSecond is < 1 or > 10_000)
        {
            throw new ArgumentException($"reflect requests per second must be from 1 to 10000, not {RequestsPerSecond}", nameof(RequestsPerSecond));
        }
        if (MaxEchoBytes is < 0 or > 1024 * 1024)
        {
            throw new ArgumentException($"reflect max echo bytes must be from 0 to 1048576, not {MaxEchoBytes}", nameof(MaxEchoBytes));
        }
    }
}
