using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Parses lists of ports such as <c>0,7,9,13-19,chargen</c>: numbers, ranges (<c>LOW-HIGH</c>) and service names,
/// each item parsed by <see cref="EndpointParser.TryParsePort"/>. <c>default</c> stands for the caller's default
/// list (so <c>default,5353</c> adds to it) and <c>none</c> (alone) for the empty list. Several lists (a repeated
/// option) add up.
/// </summary>
internal static class PortList
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why in one line.</summary>
    public static bool TryParse(string? text, IEnumerable<int> defaults, [NotNullWhen(true)] out SortedSet<int>? ports, [NotNullWhen(false)] out string? error) =>
        TryParse([text ?? ""], defaults, out ports, out error);

    /// <summary>
    /// Parses several lists as one, as a repeated option, a JSON list or a comma-separated variable gives them: their
    /// ports add up (<c>default</c> and <c>5353</c> are the default list and 5353). <c>none</c> must be the only item.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> texts, IEnumerable<int> defaults, [NotNullWhen(true)] out SortedSet<int>? ports, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(defaults);
        ports = null;
        var result = new SortedSet<int>();
        foreach (var item in texts)
        {
            var text = item.Trim();
            if (text.Length == 0)
            {
                error = "empty port list: give ports like 7,9,13-19, or none";
                return false;
            }
            if (text.Equals("none", StringComparison.OrdinalIgnoreCase) && texts.Count == 1)
            {
                ports = result;
                error = null;
                return true;
            }
            if (!TryAdd(text, defaults, result, out error))
            {
                return false;
            }
        }
        ports = result;
        error = null;
        return true;
    }

    /// <summary>
    /// <paramref name="ports"/> as <see cref="TryParse(string?, IEnumerable{int}, out SortedSet{int}?, out string?)"/>
    /// reads it back: ascending, runs of three or more as <c>LOW-HIGH</c>, and <c>none</c> for no port.
    /// </summary>
    public static string Format(IEnumerable<int> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var sorted = ports.Distinct().Order().ToArray();
        if (sorted.Length == 0)
        {
            return "none";
        }
        var text = new StringBuilder();
        for (var start = 0; start < sorted.Length;)
        {
            var end = start;
            while (end + 1 < sorted.Length && sorted[end + 1] == sorted[end] + 1)
            {
                end++;
            }
            if (end - start >= 2)
            {
                text.Append(CultureInfo.InvariantCulture, $"{sorted[start]}-{sorted[end]},");
            }
            else
            {
                for (var i = start; i <= end; i++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{sorted[i]},");
                }
            }
            start = end + 1;
        }
        return text.ToString(0, text.Length - 1);
    }

    private static bool TryAdd(string text, IEnumerable<int> defaults, SortedSet<int> result, [NotNullWhen(false)] out string? error)
    {
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 0)
            {
                error = $"invalid port list '{text}': empty item";
                return false;
            }
            if (raw.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                // "none,53" would mean "answer every port" and "deny 53" at once.
                error = "'none' (an empty list) cannot be given with other ports";
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
        error = null;
        return true;
    }
}
