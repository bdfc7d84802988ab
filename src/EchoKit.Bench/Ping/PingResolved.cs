using System.Net;

namespace EchoKit.Ping;

/// <summary>The target's address was looked up: at the start, and (with <see cref="PingOptions.ResolveEach"/>) whenever it changes.</summary>
/// <param name="Address">The address probes go to.</param>
/// <param name="Elapsed">The time the lookup took (zero for an IP literal or a Unix socket).</param>
/// <param name="Sequence">0 for the lookup before the first probe; otherwise the probe that saw the new address.</param>
public sealed record PingResolved(EndPoint Address, TimeSpan Elapsed, long Sequence);
