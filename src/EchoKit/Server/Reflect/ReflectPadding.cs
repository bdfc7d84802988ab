namespace EchoKit.Server.Reflect;

/// <summary>Pads a JSON object line to a size with a <c>"pad":"xxx"</c> member, so requests and answers can be any size.</summary>
internal static class ReflectPadding
{
    // ,"pad":"" is 9 bytes; the newline 1.
    private const int Overhead = 9;

    /// <summary>
    /// <paramref name="json"/> (one object, no newline) with a newline, padded to exactly <paramref name="size"/> bytes
    /// when it is smaller; unchanged (plus the newline) when it is already as large.
    /// </summary>
    public static byte[] Pad(byte[] json, int size)
    {
        var bare = json.Length + 1;
        if (size <= bare || json.Length < 2)
        {
            return [.. json, (byte)'\n'];
        }
        // An empty object takes no comma: {"pad":"..."}.
        var empty = json.Length == 2;
        var overhead = empty ? Overhead - 1 : Overhead;
        var padding = size - bare - overhead;
        if (padding < 0)
        {
            // Too small a gap for the member: a few spaces before the closing brace are valid JSON too.
            var spaced = new byte[size];
            json.AsSpan(0, json.Length - 1).CopyTo(spaced);
            spaced.AsSpan(json.Length - 1, size - bare).Fill((byte)' ');
            spaced[^2] = (byte)'}';
            spaced[^1] = (byte)'\n';
            return spaced;
        }
        var result = new byte[size];
        var at = json.Length - 1;
        json.AsSpan(0, at).CopyTo(result);
        var member = empty ? "\"pad\":\""u8 : ",\"pad\":\""u8;
        member.CopyTo(result.AsSpan(at));
        at += member.Length;
        result.AsSpan(at, padding).Fill((byte)'x');
        at += padding;
        result[at++] = (byte)'"';
        result[at++] = (byte)'}';
        result[at] = (byte)'\n';
        return result;
    }
}
