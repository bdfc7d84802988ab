using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// What a client command was pointed at: an IP endpoint (<c>host:port</c>) or a Unix socket path (with <c>-U</c>, or
/// any argument that looks like a path: <c>/run/echo.sock</c>, <c>./echo.sock</c>, <c>unix:echo.sock</c>). The
/// addresses <c>serve</c> prints are taken back as they are: <c>tcp://127.0.0.1:43121</c>, and <c>udp://</c> and
/// <c>tls://</c>, which stand for <c>--udp</c> and <c>--tls</c> (<see cref="Scheme"/>).
/// </summary>
internal sealed partial record ClientTarget(EndpointSpec Endpoint, string? UnixPath, string? Scheme = null)
{
    /// <summary>The sentence every client's ENDPOINT help ends with.</summary>
    public const string SchemesHelp = "The addresses serve prints work too: tcp://HOST:PORT, udp://HOST:PORT (as --udp), tls://HOST:PORT (as --tls).";

    public override string ToString() => Endpoint.Text;

    /// <summary>True for words that can only be a path: they have a slash, or the <c>unix:</c> prefix.</summary>
    public static bool LooksLikePath(string text) =>
        text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || text.Contains('/', StringComparison.Ordinal);

    /// <summary>
    /// A Unix socket at <paramref name="text"/>: a path, <c>unix:PATH</c>, or <c>unix://PATH</c> as <c>serve</c>
    /// prints it. The <c>//</c> after the scheme is a URI's empty authority and no part of the path:
    /// <c>unix:///run/echo.sock</c> is <c>/run/echo.sock</c>, and <c>unix://echo.sock</c> (how serve prints
    /// <c>--unix echo.sock</c>) is <c>echo.sock</c>, relative to the working directory as <c>unix:echo.sock</c> is.
    /// </summary>
    public static ClientTarget ForUnix(string text)
    {
        var path = text;
        if (path.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            path = path[5..];
            path = path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path;
        }
        return new ClientTarget(new EndpointSpec(null, 0, path), path);
    }

    /// <summary>
    /// Reads a client's ENDPOINT: <c>tcp://</c>, <c>udp://</c> or <c>tls://</c> and HOST:PORT, a Unix socket path
    /// (always, with <paramref name="unix"/>: <c>-U</c>), or HOST:PORT in every form <see cref="EndpointParser"/> takes.
    /// On failure <paramref name="error"/> says why in one line.
    /// </summary>
    public static bool TryParse(string text, bool unix, [NotNullWhen(true)] out ClientTarget? target, [NotNullWhen(false)] out string? error)
        => TryParse(text, unix, ClientSchemes, out target, out error);

    /// <summary>The schemes an echo client takes: <c>tcp://</c>, <c>udp://</c>, <c>tls://</c> (and Unix paths).</summary>
    private static readonly string[] ClientSchemes = ["tcp", "udp", "tls"];

    /// <summary>
    /// The schemes a probe takes: it dials both TCP and UDP on one port, so <c>tcp://</c>, <c>udp://</c>, and the
    /// <c>reflect+tcp://</c> and <c>reflect+udp://</c> that serve prints for its reflect listeners, all name that port.
    /// </summary>
    public static readonly string[] ProbeSchemes = ["tcp", "udp", "reflect+tcp", "reflect+udp"];

    /// <summary>As <see cref="TryParse(string, bool, out ClientTarget?, out string?)"/>, taking only <paramref name="schemes"/> (Unix paths only for <see cref="ClientSchemes"/>).</summary>
    public static bool TryParse(string text, bool unix, IReadOnlyList<string> schemes, [NotNullWhen(true)] out ClientTarget? target, [NotNullWhen(false)] out string? error)
    {
        target = null;
        string? scheme = null;
        if (!unix && !text.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) && SchemePattern().Match(text) is { Success: true } uri)
        {
            scheme = uri.Groups[1].Value.ToLowerInvariant();
            if (!schemes.Contains(scheme))
            {
                var forms = schemes.Select(s => s + "://").Concat(schemes == ClientSchemes ? ["unix:"] : Array.Empty<string>()).ToArray();
                error = $"invalid endpoint '{text}': unknown scheme '{uri.Groups[1].Value}://' (give HOST:PORT, or {string.Join(", ", forms[..^1])} or {forms[^1]} as serve prints them)";
                return false;
            }
            // One trailing slash, as URIs often end, is no path.
            text = uri.Groups[2].Value is { Length: > 0 } rest && rest[^1] == '/' ? rest[..^1] : uri.Groups[2].Value;
            if (text.Contains('/', StringComparison.Ordinal))
            {
                error = $"invalid endpoint '{scheme}://{text}': expected {scheme}://HOST:PORT, with no path";
                return false;
            }
        }
        else if (unix || LooksLikePath(text))
        {
            target = ForUnix(text);
            error = EndpointParser.UnixPathError(target.UnixPath!);
            if (error is not null)
            {
                target = null;
                return false;
            }
            return true;
        }
        if (!EndpointParser.TryParse(text, out var endpoint, out error))
        {
            return false;
        }
        if (TargetError(endpoint) is { } notATarget)
        {
            error = notATarget;
            return false;
        }
        target = new ClientTarget(endpoint, null, scheme);
        return true;
    }

    /// <summary>
    /// <c>--udp</c> and <c>--tls</c> as the command line gives them, with what the scheme of <paramref name="target"/>
    /// (when there is one) says: <c>udp://</c> is <c>--udp</c>, <c>tls://</c> is <c>--tls</c>. A flag the scheme
    /// contradicts is a <see cref="UsageException"/>.
    /// </summary>
    public static (bool Udp, bool Tls) WithFlags(ClientTarget? target, bool udp, bool tls) => target?.Scheme switch
    {
        "udp" when tls => throw new UsageException("udp:// cannot take --tls (TLS works over TCP; DTLS is not supported)"),
        "tls" when udp => throw new UsageException("tls:// is TLS over TCP; it cannot take --udp (use udp://HOST:PORT)"),
        "tcp" when udp => throw new UsageException("tcp:// and --udp contradict each other (use udp://HOST:PORT)"),
        var scheme => (udp || scheme == "udp", tls || scheme == "tls"),
    };

    /// <summary>
    /// Why <paramref name="endpoint"/> cannot be connected to, or null: port 0 asks a server for any free port, and as
    /// a target it reaches nothing. The one check for every client's ENDPOINT (this parser's and the probes').
    /// </summary>
    public static string? TargetError(EndpointSpec endpoint) =>
        endpoint.Port == 0 ? $"invalid endpoint '{endpoint.Text}': port 0 cannot be connected to (give the server's port)" : null;

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$")]
    private static partial Regex SchemePattern();
}
