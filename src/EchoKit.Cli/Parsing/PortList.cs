using System.Diagnostics.CodeAnalysis;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Parses lists of ports such as <c>0,7,9,13-19,chargen</c>: numbers, ranges (<c>LOW-HIGH</c>) and service names,
/// each item parsed by <see cref="EndpointParser.TryParsePort"/>. <c>default</c> stands for the caller's default
/// list (so <c>default,5353</c> adds to it) and <c>none</c> (alone) for the empty list.
/// </summary>
internal static class PortList
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why in one line.</summary>
    public static bool TryParse(string? text, IEnumerable<int> defaults, [NotNullWhen(true)] out SortedSet<int>? ports, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ports = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "empty port list: give ports like 7,9,13-19, or none";
            return false;
        }
        var result = new SortedSet<int>();
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            ports = result;
            error = null;
            return true;
        }
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 0)
            {
                error = $"invalid port list '{text}': empty item";
                return false;
            }
            if (raw.Equals("default", StringComparison.OrdinalIgnoreCase))
            {
                result.UnionWith(defaults);
                continue;
            }
            // A whole item first: service names may contain '-' (ftp-data).
            if (EndpointParser.TryParsePort(raw, out var port, out var itemError))
            {
                result.Add(port);
                continue;
            }
            var dash = raw.IndexOf('-', 1);
            if (dash > 0
                && EndpointParser.TryParsePort(raw[..dash].Trim(), out var low, out _)
                && EndpointParser.TryParsePort(raw[(dash + 1)..].Trim(), out var high, out _))
            {
                if (low > high)
                {
                    error = $"invalid port range '{raw}': {low} is above {high}";
                    return false;
                }
                for (var p = low; p <= high; p++)
                {
                    result.Add(p);
                }
                continue;
            }
            error = $"invalid port list '{text}': {itemError}";
            return false;
        }
        ports = result;
        error = null;
        return true;
    }
}
