namespace EchoKit.Endpoints;

/// <summary>
/// A parsed endpoint as a user wrote it: an optional host (a name or an IP literal) and a port.
/// It is not resolved yet; <see cref="EndpointResolver"/> turns it into socket addresses.
/// </summary>
/// <param name="Host">
/// The host name or IP literal, without brackets; <see langword="null"/> when the user gave none
/// (<c>:PORT</c> or <c>PORT</c>), which means "all interfaces" to a server and "this machine" to a client.
/// </param>
/// <param name="Port">The port, 0 to 65535 (0 asks a server for an ephemeral port).</param>
/// <param name="Text">The text the endpoint was parsed from, for messages.</param>
public sealed record EndpointSpec(string? Host, int Port, string Text)
{
    /// <summary>True when no host was given: a server binds every interface, IPv4 and IPv6.</summary>
    public bool IsWildcard => Host is null;

    /// <inheritdoc />
    public override string ToString() => Text;
}
