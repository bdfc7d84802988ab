using System.Net;

namespace EchoKit.Ping;

/// <summary>Echo and UDP modes opened their connection (socket): the first time, or again after it dropped.</summary>
/// <param name="Local">Our side.</param>
/// <param name="Remote">The target.</param>
/// <param name="ConnectTime">The time connect() took; not part of any probe's round trip.</param>
/// <param name="TlsTime">With TLS, the time the handshake took after connect(); otherwise null.</param>
/// <param name="Sequence">The probe that needed the connection.</param>
/// <param name="Reconnect">False for the first connection.</param>
public sealed record PingConnected(EndPoint? Local, EndPoint Remote, TimeSpan ConnectTime, TimeSpan? TlsTime, long Sequence, bool Reconnect);
