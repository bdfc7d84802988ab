using System.Collections.Frozen;

namespace EchoKit.Endpoints;

/// <summary>
/// Maps well-known service names (<c>echo</c>, <c>http</c>, <c>smtp</c>...) to ports: from /etc/services when the
/// machine has it, then from a built-in table (the seed tutorial's table, corrected: ftp is 21, ftp-data 20).
/// </summary>
internal static class ServicePorts
{
    /// <summary>The built-in table, used when /etc/services is missing or lacks a name.</summary>
    public static readonly IReadOnlyDictionary<string, int> BuiltIn = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["echo"] = 7, ["discard"] = 9, ["daytime"] = 13, ["qotd"] = 17, ["chargen"] = 19,
        ["ftp-data"] = 20, ["ftp"] = 21, ["ssh"] = 22, ["telnet"] = 23, ["smtp"] = 25, ["mail"] = 25,
        ["time"] = 37, ["domain"] = 53, ["dns"] = 53, ["tftp"] = 69, ["gopher"] = 70, ["finger"] = 79,
        ["http"] = 80, ["www"] = 80, ["pop3"] = 110, ["pop-3"] = 110, ["nntp"] = 119, ["ntp"] = 123,
        ["imap"] = 143, ["imap2"] = 143, ["imap4"] = 143, ["snmp"] = 161, ["https"] = 443,
        ["submission"] = 587, ["imaps"] = 993, ["pop3s"] = 995,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, int>> System = new(() => Load("/etc/services"));

    /// <summary>Looks a service name up; true with its port when known.</summary>
    public static bool TryGetPort(string name, out int port) =>
        System.Value.TryGetValue(name, out port) || BuiltIn.TryGetValue(name, out port);

    /// <summary>Parses a services file ("name port/proto aliases... # comment"); a missing file gives an empty map.</summary>
    internal static FrozenDictionary<string, int> Load(string path)
    {
        var map = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                Parse(line, map);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No readable services file: the built-in table answers alone.
        }
        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    internal static void Parse(string line, Dictionary<string, int> map)
    {
        var hash = line.IndexOf('#');
        var content = hash >= 0 ? line.AsSpan(0, hash) : line.AsSpan();
        Span<Range> parts = stackalloc Range[16];
        var count = content.SplitAny(parts, " \t", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (count < 2)
        {
            return;
        }
        var portProto = content[parts[1]];
        var slash = portProto.IndexOf('/');
        if (slash <= 0 || !int.TryParse(portProto[..slash], out var port) || port is < 0 or > 65535)
        {
            return;
        }
        var proto = portProto[(slash + 1)..];
        if (!proto.Equals("tcp", StringComparison.OrdinalIgnoreCase) && !proto.Equals("udp", StringComparison.OrdinalIgnoreCase))
        {
            return; // ddp, sctp...: not ours
        }
        for (var i = 0; i < count; i++)
        {
            if (i == 1)
            {
                continue;
            }
            // The first entry for a name wins, as getservbyname does.
            map.TryAdd(content[parts[i]].ToString(), port);
        }
    }
}
