using System.Net;

namespace EchoKit.Server.ProxyProtocol;

/// <summary>A parsed PROXY protocol header.</summary>
/// <param name="Version">1 (text) or 2 (binary).</param>
/// <param name="Command">PROXY, or LOCAL (v2 only).</param>
/// <param name="Source">
/// The real client's address, or <see langword="null"/> when the header carries none (v1 UNKNOWN, v2 LOCAL,
/// v2 UNSPEC or UNIX): the socket's own peer address then stands.
/// </param>
/// <param name="Destination">The address the client connected to, when given.</param>
public sealed record ProxyHeader(int Version, ProxyCommand Command, IPEndPoint? Source, IPEndPoint? Destination);
