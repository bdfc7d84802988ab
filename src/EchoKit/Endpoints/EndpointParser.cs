using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Endpoints;

/// <summary>
/// Parses the endpoint forms every EchoKit command accepts: <c>PORT</c>, <c>:PORT</c>, <c>HOST:PORT</c>,
/// <c>[IPv6]:PORT</c> and <c>*:PORT</c>. HOST may be a name, resolved later through DNS; PORT may be a number
/// or a service name such as <c>echo</c> or <c>http</c>.
/// </summary>
public static class EndpointParser
{
    /// <summary>The longest Unix socket path Linux takes, in bytes (sun_path holds 108 with the NUL).</summary>
    public const int MaxUnixPathBytes = 107;

    /// <summary>
    /// Why <paramref name="path"/> cannot name a Unix socket (it is empty, or longer than
    /// <see cref="MaxUnixPathBytes"/> bytes in UTF-8), in one line; null when it can. The one check for a client's
    /// Unix socket path, so that a long path is a usage error rather than an exception from the socket address.
    /// </summary>
    public static string? UnixPathError(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return "empty Unix socket path";
        }
        return System.Text.Encoding.UTF8.GetByteCount(path) > MaxUnixPathBytes
            ? $"Unix socket path '{path}' is longer than {MaxUnixPathBytes} bytes"
            : null;
    }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="EndpointFormatException"/> with a one-line reason.</summary>
    public static EndpointSpec Parse(string text)
    {
        if (TryParse(text, out var endpoint, out var error))
        {
            return endpoint;
        }
        throw new EndpointFormatException(error);
    }

    /// <summary>
    /// Parses where a server should listen; throws <see cref="EndpointFormatException"/> with a one-line reason. As
    /// <see cref="Parse"/>, but an IPv4-mapped IPv6 address (<c>[::ffff:127.0.0.1]:7</c>) is refused with the IPv4
    /// endpoint to write instead (see <see cref="TryParseListen"/>).
    /// </summary>
    public static EndpointSpec ParseListen(string text)
    {
        if (TryParseListen(text, out var endpoint, out var error))
        {
            return endpoint;
        }
        throw new EndpointFormatException(error);
    }

    /// <summary>
    /// <see cref="TryParse"/> for a listen endpoint. An IPv4-mapped IPv6 address is refused: an IPv6 socket cannot
    /// bind one (the OS says only "Invalid argument"), and the plain IPv4 address serves the same clients.
    /// </summary>
    public static bool TryParseListen(string? text, [NotNullWhen(true)] out EndpointSpec? endpoint, [NotNullWhen(false)] out string? error)
    {
        if (!TryParse(text, out endpoint, out error))
        {
            return false;
        }
        if (endpoint.Host is { } host && IPAddress.TryParse(host, out var address) && MappedAdvice(address, "addresses") is { } advice)
        {
            var portText = endpoint.Text[(endpoint.Text.LastIndexOf(':') + 1)..];
            error = $"invalid endpoint '{endpoint.Text}': {advice}: {address.MapToIPv4()}:{portText}";
            endpoint = null;
            return false;
        }
        return true;
    }

    /// <summary>
    /// The one wording for an IPv4-mapped IPv6 address (<c>::ffff:a.b.c.d</c>) where EchoKit wants IPv4 written as
    /// IPv4 (listen endpoints, access-list ranges): "write IPv4-mapped <paramref name="what"/> as IPv4"; null when
    /// <paramref name="address"/> is not one.
    /// </summary>
    internal static string? MappedAdvice(IPAddress address, string what) =>
        address.IsIPv4MappedToIPv6 ? $"write IPv4-mapped {what} as IPv4" : null;

    /// <summary>Parses <paramref name="text"/> without throwing; on failure <paramref name="error"/> says why in one line.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out EndpointSpec? endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "empty endpoint: expected PORT, :PORT, HOST:PORT or [IPv6]:PORT";
            return false;
        }

        string? host;
        string portText;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 0)
            {
                error = $"invalid endpoint '{text}': missing ']' after the IPv6 address";
                return false;
            }
            host = text[1..close];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"invalid endpoint '{text}': '{host}' is not an IPv6 address";
                return false;
            }
            var rest = text[(close + 1)..];
            if (!rest.StartsWith(':') || rest.Length == 1)
            {
                error = $"invalid endpoint '{text}': expected [IPv6]:PORT";
                return false;
            }
            portText = rest[1..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                // A lone token is a port (number or service name), never a host: "localhost" alone has no port.
                host = null;
                portText = text;
            }
            else if (text.IndexOf(':') != colon)
            {
                error = IPAddress.TryParse(text, out _)
                    ? $"invalid endpoint '{text}': put IPv6 addresses in brackets with a port, e.g. [{text}]:50007"
                    : $"invalid endpoint '{text}': expected HOST:PORT or [IPv6]:PORT";
                return false;
            }
            else
            {
                host = text[..colon];
                portText = text[(colon + 1)..];
                if (host.Length == 0 || host == "*")
                {
                    host = null;
                }
                else if (!IsValidHost(host))
                {
                    error = $"invalid endpoint '{text}': '{host}' is not a valid host name or address";
                    return false;
                }
            }
        }

        if (host is null && text.IndexOf(':') < 0 && !text.All(char.IsAsciiDigit) && IPAddress.TryParse(text, out _))
        {
            error = $"invalid endpoint '{text}': no port given (expected HOST:PORT)";
            return false;
        }
        if (!TryParsePort(portText, out var port, out error))
        {
            error = host is null && text.IndexOf(':') < 0 && !char.IsAsciiDigit(text[0])
                ? $"invalid endpoint '{text}': no port given and '{text}' is not a known service (expected HOST:PORT)"
                : $"invalid endpoint '{text}': {error}";
            return false;
        }

        endpoint = new EndpointSpec(host, port, text);
        error = null;
        return true;
    }

    /// <summary>Parses a port number (0-65535) or a service name.</summary>
    public static bool TryParsePort(string text, out int port, [NotNullWhen(false)] out string? error)
    {
        port = 0;
        if (string.IsNullOrEmpty(text))
        {
            error = "missing port";
            return false;
        }
        if (char.IsAsciiDigit(text[0]) || (text.Length > 1 && text[0] is '-' or '+' && char.IsAsciiDigit(text[1])))
        {
            if (text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535)
            {
                error = null;
                return true;
            }
            error = $"port '{text}' is not a number from 0 to 65535";
            return false;
        }
        if (ServicePorts.TryGetPort(text, out port))
        {
            error = null;
            return true;
        }
        error = $"unknown service name '{text}'";
        return false;
    }

    private static bool IsValidHost(string host)
    {
        if (IPAddress.TryParse(host, out _))
        {
            return true;
        }
        // RFC 1123 host names: letters, digits, '-', '.', (and '_' which real resolvers tolerate).
        if (host.Length > 253)
        {
            return false;
        }
        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
            {
                return false;
            }
        }
        return true;
    }
}
