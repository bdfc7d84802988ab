using System.Net;
using EchoKit.Internal;

namespace EchoKit.Server.AccessControl;

/// <summary>
/// Which client addresses may talk to the server: a deny list and an allow list of CIDR ranges, IPv4 and IPv6.
/// Deny wins: an address in any deny range is refused. If the allow list is empty every other address is allowed;
/// otherwise only addresses in an allow range are. IPv4-mapped IPv6 addresses match IPv4 ranges. Immutable and
/// thread-safe; <see cref="Allows(System.Net.IPAddress)"/> does not allocate (a linear scan, meant for lists of up to a few hundred ranges).
/// </summary>
public sealed class IpAccessList
{
    private readonly IpNetwork[] _allow;
    private readonly IpNetwork[] _deny;

    /// <summary>Creates a list from allow and deny ranges (either may be empty).</summary>
    public IpAccessList(IEnumerable<IpNetwork> allow, IEnumerable<IpNetwork> deny)
    {
        ArgumentNullException.ThrowIfNull(allow);
        ArgumentNullException.ThrowIfNull(deny);
        _allow = allow.Distinct().ToArray();
        _deny = deny.Distinct().ToArray();
    }

    /// <summary>The allow ranges; empty means "everyone not denied".</summary>
    public IReadOnlyList<IpNetwork> Allow => _allow;

    /// <summary>The deny ranges; they win over allow ranges.</summary>
    public IReadOnlyList<IpNetwork> Deny => _deny;

    /// <summary>True when the list refuses nobody.</summary>
    public bool IsEmpty => _allow.Length == 0 && _deny.Length == 0;

    /// <summary>True when <paramref name="address"/> may connect (or send datagrams).</summary>
    public bool Allows(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        foreach (var range in _deny)
        {
            if (range.Contains(address))
            {
                return false;
            }
        }
        if (_allow.Length == 0)
        {
            return true;
        }
        foreach (var range in _allow)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The same check for an address given as 128 bits (IPv4 as IPv4-mapped IPv6), without allocating.</summary>
    internal bool Allows(UInt128 mappedBits)
    {
        foreach (var range in _deny)
        {
            if (range.Contains(mappedBits))
            {
                return false;
            }
        }
        if (_allow.Length == 0)
        {
            return true;
        }
        foreach (var range in _allow)
        {
            if (range.Contains(mappedBits))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Parses ranges one per line: blank lines are skipped and <c>#</c> starts a comment (whole line or trailing).
    /// Throws <see cref="FormatException"/> whose message names <paramref name="source"/>, the line number and the range.
    /// </summary>
    public static IReadOnlyList<IpNetwork> ParseLines(IEnumerable<string> lines, string source)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var ranges = new List<IpNetwork>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (!IpNetwork.TryParse(line, out var range, out var error))
            {
                throw new FormatException($"{source}:{number}: {error}");
            }
            ranges.Add(range);
        }
        return ranges;
    }

    /// <summary>Largest range file read: some 50,000 ranges, far more than a linear scan is meant for.</summary>
    internal const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Reads ranges from the file at <paramref name="path"/> (see <see cref="ParseLines"/>), at most 1 MiB of it.
    /// Throws <see cref="FormatException"/> for a bad range or a larger file, and <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> when the file cannot be read.
    /// </summary>
    public static IReadOnlyList<IpNetwork> ParseFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = BoundedFile.ReadAllText(path, MaxFileBytes);
        }
        catch (InvalidDataException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
        return ParseLines(Lines(text), path);
    }

    private static IEnumerable<string> Lines(string text)
    {
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }
}
