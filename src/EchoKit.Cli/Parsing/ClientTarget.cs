using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// What a client command was pointed at: an IP endpoint (<c>host:port</c>) or a Unix socket path (with <c>-U</c>, or
/// any argument that looks like a path: <c>/run/echo.sock</c>, <c>./echo.sock</c>, <c>unix:echo.sock</c>).
/// </summary>
internal sealed record ClientTarget(EndpointSpec Endpoint, string? UnixPath)
{
    public override string ToString() => Endpoint.Text;

    /// <summary>True for words that can only be a path: they have a slash, or the <c>unix:</c> prefix.</summary>
    public static bool LooksLikePath(string text) =>
        text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || text.Contains('/', StringComparison.Ordinal);

    public static ClientTarget ForUnix(string text)
    {
        var path = text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) ? text[5..] : text;
        return new ClientTarget(new EndpointSpec(null, 0, path), path);
    }
}
