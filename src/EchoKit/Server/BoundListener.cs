using System.Net;

namespace EchoKit.Server;

/// <summary>A listener the server has bound: its protocol, the address actually bound and its URI.</summary>
/// <param name="Protocol">The transport.</param>
/// <param name="EndPoint">The bound address, with the real port when 0 was asked for.</param>
/// <param name="Uri">The bound address as a URI, e.g. <c>tcp://127.0.0.1:43121</c> or <c>tcp://[::]:50007</c>.</param>
public sealed record BoundListener(ListenProtocol Protocol, EndPoint EndPoint, string Uri)
{
    /// <summary>The bound port, or 0 for endpoints without one.</summary>
    public int Port => EndPoint is IPEndPoint ip ? ip.Port : 0;
}
