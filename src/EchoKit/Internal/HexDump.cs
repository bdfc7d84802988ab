using System.Text;

namespace EchoKit.Internal;

/// <summary>Formats bytes as a classic hex dump: offset, 16 bytes of hex, then the printable ASCII.</summary>
internal static class HexDump
{
    /// <summary>Appends the dump of <paramref name="data"/> to <paramref name="builder"/>, offsets starting at <paramref name="baseOffset"/>.</summary>
    public static void Append(StringBuilder builder, ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        for (var line = 0; line < data.Length; line += 16)
        {
            var chunk = data.Slice(line, Math.Min(16, data.Length - line));
            builder.Append((baseOffset + line).ToString("x8", System.Globalization.CultureInfo.InvariantCulture)).Append("  ");
            for (var i = 0; i < 16; i++)
            {
                if (i < chunk.Length)
                {
                    builder.Append(chunk[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
                }
                else
                {
                    builder.Append("   ");
                }
                if (i == 7)
                {
                    builder.Append(' ');
                }
            }
            builder.Append(" |");
            foreach (var b in chunk)
            {
                builder.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }
            builder.Append('|');
            if (line + 16 < data.Length)
            {
                builder.Append('\n');
            }
        }
    }

    /// <summary>The dump of <paramref name="data"/> as one string (lines joined by '\n', no trailing newline).</summary>
    public static string Format(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        var builder = new StringBuilder(data.Length * 4 + 16);
        Append(builder, data, baseOffset);
        return builder.ToString();
    }
}
