using System.Globalization;
using System.Text;
using EchoKit.Cli.Parsing;

namespace EchoKit.Cli.Commands;

/// <summary>
/// Shows where an echo went wrong, for stderr: the offset, the bytes that matched just before, and the expected and
/// actual bytes from there, in hex and as ASCII (anything unprintable as '.', so peer bytes never reach the terminal raw).
/// </summary>
internal static class MismatchReport
{
    public static string Format(long offset, ReadOnlySpan<byte> before, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        var width = Math.Max(Math.Max(before.Length, expected.Length), actual.Length) * 3;
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"  first difference at byte {offset} (0x{offset:x}):\n");
        if (!before.IsEmpty)
        {
            Row(builder, $"before ({before.Length} B)", before, width);
        }
        Row(builder, "expected", expected, width, expected.IsEmpty ? "(nothing: more came back than was sent)" : null);
        Row(builder, "actual", actual, width, actual.IsEmpty ? "(nothing)" : null);
        return builder.ToString();
    }

    private static void Row(StringBuilder builder, string label, ReadOnlySpan<byte> bytes, int width, string? note = null)
    {
        builder.Append("    ").Append(label.PadRight(14));
        if (note is not null)
        {
            builder.Append(note).Append('\n');
            return;
        }
        builder.Append(HexParser.Format(bytes).PadRight(width)).Append(" |");
        foreach (var b in bytes)
        {
            builder.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        }
        builder.Append("|\n");
    }
}
