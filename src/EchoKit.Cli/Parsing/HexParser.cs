namespace EchoKit.Cli.Parsing;

/// <summary>Hex text to bytes and back, for <c>--hex</c>: input may have spaces, colons or newlines between bytes.</summary>
internal static class HexParser
{
    public static bool TryParse(ReadOnlySpan<char> text, out byte[] bytes, out string? error)
    {
        var digits = new List<byte>(text.Length / 2);
        int? high = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c) || c is ':' or '-')
            {
                if (high is not null)
                {
                    bytes = [];
                    error = $"invalid hex: odd digit before position {i}";
                    return false;
                }
                continue;
            }
            var v = HexValue(c);
            if (v < 0)
            {
                bytes = [];
                error = $"invalid hex: '{c}' at position {i} is not a hex digit";
                return false;
            }
            if (high is null)
            {
                high = v;
            }
            else
            {
                digits.Add((byte)((high.Value << 4) | v));
                high = null;
            }
        }
        if (high is not null)
        {
            bytes = [];
            error = "invalid hex: odd number of digits";
            return false;
        }
        bytes = digits.ToArray();
        error = null;
        return true;
    }

    /// <summary>Bytes as lowercase hex pairs separated by spaces.</summary>
    public static string Format(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        return string.Create(bytes.Length * 3 - 1, bytes.ToArray(), static (span, data) =>
        {
            for (var i = 0; i < data.Length; i++)
            {
                if (i > 0)
                {
                    span[i * 3 - 1] = ' ';
                }
                data[i].TryFormat(span[(i * 3)..], out _, "x2");
            }
        });
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
