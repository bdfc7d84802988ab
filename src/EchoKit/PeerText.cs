using System.Globalization;
using System.Text;

namespace EchoKit;

/// <summary>
/// The one sanitiser for text a peer controls (dumped data, log fields with peer text such as PROXY TLVs, TLS SNI,
/// certificate names, HTTP request lines), before it reaches a terminal or a log viewer; the CLI also passes its usage
/// errors through it, as they quote words of the command line.
/// </summary>
/// <remarks>
/// Printable text, including any valid UTF-8, is kept as it is. Everything a terminal could act on is escaped the
/// way <c>cat -v</c> and <c>socat -v</c> show it: <c>\0</c>, <c>\t</c>, <c>\r</c>, <c>\n</c> (in a field),
/// <c>\xNN</c> for the other C0 controls, DEL, the C1 controls (0x9b is a one-byte CSI on some terminals) and bytes
/// that are not UTF-8, <c>\u{XXXX}</c> for the invisible and direction-changing code points (bidi overrides, line
/// separators, zero-width marks). A backslash is written <c>\\</c>, so every escape reads back unambiguously.
/// A dump keeps the data's own line breaks; a line longer than <see cref="MaxDumpLineChars"/> is wrapped, the break
/// marked with a lone <c>\</c> at the end of the line. A field is one line, cut at <see cref="MaxFieldChars"/> and marked "…(+N)", N the characters left out.
/// </remarks>
public static class PeerText
{
    /// <summary>The longest line a dump writes before it wraps (the marker is not counted).</summary>
    public const int MaxDumpLineChars = 256;

    /// <summary>The longest log field, escapes included, before it is cut and marked "…(+N)".</summary>
    public const int MaxFieldChars = 256;

    /// <summary>Peer bytes for a dump: UTF-8 where valid, <c>\xNN</c> where not; line breaks kept, long lines wrapped.</summary>
    public static string Dump(ReadOnlySpan<byte> data) => Wrap(Pieces(data, keepNewline: true, final: true, out _), data.Length);

    /// <summary>
    /// Peer bytes of a stream for a dump, one piece at a time: escaped as <see cref="Dump(ReadOnlySpan{byte})"/>, but a
    /// UTF-8 sequence cut at the end of <paramref name="data"/> (at most 3 bytes) is left for the next piece, and
    /// <paramref name="consumed"/> stops before it, unless <paramref name="final"/>, when its bytes are escaped.
    /// </summary>
    internal static string Dump(ReadOnlySpan<byte> data, bool final, out int consumed) =>
        Wrap(Pieces(data, keepNewline: true, final, out consumed), data.Length);

    /// <summary>Decoded peer text for a dump (bytes that were not UTF-8 are already U+FFFD); line breaks kept, long lines wrapped.</summary>
    public static string Dump(string text) =>
        IsPlain(text, allowNewline: true) && LongestLine(text) <= MaxDumpLineChars ? text : Wrap(Pieces(text, keepNewline: true), text.Length);

    /// <summary>Peer text for one log field: one line, escaped, at most <see cref="MaxFieldChars"/> characters.</summary>
    public static string Field(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }
        return text.Length <= MaxFieldChars && IsPlain(text, allowNewline: false) ? text : Cut(Pieces(text, keepNewline: false));
    }

    /// <summary>Peer bytes for one log field (a TLV value, an SNI name): UTF-8 where valid, <c>\xNN</c> where not.</summary>
    public static string Field(ReadOnlySpan<byte> data) => Cut(Pieces(data, keepNewline: false, final: true, out _));

    /// <summary>
    /// Peer bytes of a stream for a terminal (<c>connect</c> writing to one): escaped as a dump is, but line breaks,
    /// tabs and carriage returns pass as they are, a backslash is not doubled and nothing is wrapped, so a line-based
    /// conversation reads as it would raw. A UTF-8 sequence cut at the end of <paramref name="data"/> is left for the
    /// next call (the count returned stops before it) unless <paramref name="final"/>, when its bytes are escaped.
    /// </summary>
    /// <returns>The bytes of <paramref name="data"/> consumed.</returns>
    internal static int AppendForTerminal(StringBuilder builder, ReadOnlySpan<byte> data, bool final)
    {
        var consumedTotal = 0;
        while (consumedTotal < data.Length)
        {
            var rest = data[consumedTotal..];
            var status = Rune.DecodeFromUtf8(rest, out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                AppendForTerminal(builder, rune);
            }
            else if (status == System.Buffers.OperationStatus.NeedMoreData && !final)
            {
                break;
            }
            else
            {
                consumed = Math.Max(consumed, 1);
                foreach (var b in rest[..consumed])
                {
                    builder.Append(Hex(b));
                }
            }
            consumedTotal += consumed;
        }
        return consumedTotal;
    }

    /// <summary>Decoded peer text of a stream for a terminal, escaped as <see cref="AppendForTerminal(StringBuilder, ReadOnlySpan{byte}, bool)"/> does.</summary>
    internal static void AppendForTerminal(StringBuilder builder, ReadOnlySpan<char> text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            AppendForTerminal(builder, rune);
        }
    }

    private static void AppendForTerminal(StringBuilder builder, Rune rune)
    {
        if (rune.Value is '\\' or '\n' or '\t' or '\r' || Escape(rune, keepNewline: true) is not { } escape)
        {
            builder.Append(rune.ToString());
        }
        else
        {
            builder.Append(escape);
        }
    }

    /// <summary>The text as printable pieces: each one character, one rune or one escape ("\n" stays a line break when kept).</summary>
    /// <param name="data">The peer's bytes.</param>
    /// <param name="keepNewline">True keeps "\n" a line break (a dump); false escapes it (a field).</param>
    /// <param name="final">False leaves a UTF-8 sequence cut at the end undecoded (a stream's next piece completes it).</param>
    /// <param name="used">The bytes turned into pieces: all of them unless a cut sequence was left.</param>
    private static List<string> Pieces(ReadOnlySpan<byte> data, bool keepNewline, bool final, out int used)
    {
        var pieces = new List<string>(data.Length);
        used = 0;
        while (!data.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(data, out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                pieces.Add(Escape(rune, keepNewline) ?? rune.ToString());
            }
            else if (status == System.Buffers.OperationStatus.NeedMoreData && !final)
            {
                break; // a valid start of a sequence, cut: the rest comes with the next piece
            }
            else
            {
                // Not UTF-8 (or cut mid-sequence): each byte of the bad sequence as hex; the rest is decoded afresh.
                consumed = Math.Max(consumed, 1);
                for (var i = 0; i < consumed; i++)
                {
                    pieces.Add(Hex(data[i]));
                }
            }
            data = data[consumed..];
            used += consumed;
        }
        return pieces;
    }

    private static List<string> Pieces(string text, bool keepNewline)
    {
        var pieces = new List<string>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            pieces.Add(Escape(rune, keepNewline) ?? rune.ToString());
        }
        return pieces;
    }

    private static string Wrap(List<string> pieces, int sizeHint)
    {
        var builder = new StringBuilder(sizeHint + 16);
        var column = 0;
        foreach (var piece in pieces)
        {
            if (piece == "\n")
            {
                builder.Append('\n');
                column = 0;
                continue;
            }
            if (column + piece.Length > MaxDumpLineChars && column > 0)
            {
                builder.Append("\\\n");
                column = 0;
            }
            builder.Append(piece);
            column += piece.Length;
        }
        return builder.ToString();
    }

    private static string Cut(List<string> pieces)
    {
        var builder = new StringBuilder(MaxFieldChars + 16);
        for (var i = 0; i < pieces.Count; i++)
        {
            if (builder.Length + pieces[i].Length > MaxFieldChars)
            {
                builder.Append("…(+").Append((pieces.Count - i).ToString(CultureInfo.InvariantCulture)).Append(')');
                break;
            }
            builder.Append(pieces[i]);
        }
        return builder.ToString();
    }

    /// <summary>The escape for <paramref name="rune"/>, or null when it is printed as itself.</summary>
    private static string? Escape(Rune rune, bool keepNewline)
    {
        var value = rune.Value;
        switch (value)
        {
            case '\\': return "\\\\";
            case '\0': return "\\0";
            case '\t': return "\\t";
            case '\r': return "\\r";
            case '\n': return keepNewline ? null : "\\n";
        }
        if (value < 0x20 || value is >= 0x7f and < 0xa0)
        {
            return Hex((byte)value);
        }
        if (IsInvisible(value))
        {
            return "\\u{" + value.ToString("X4", CultureInfo.InvariantCulture) + "}";
        }
        return null;
    }

    private static string Hex(byte b) => "\\x" + b.ToString("x2", CultureInfo.InvariantCulture);

    /// <summary>Code points that move the cursor, reorder text or hide: they could make a log line lie about itself.</summary>
    private static bool IsInvisible(int value) =>
        value != 0x200d // the zero-width joiner holds emoji sequences together and moves nothing
        && Rune.GetUnicodeCategory(new Rune(value)) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static bool IsPlain(string text, bool allowNewline)
    {
        foreach (var c in text)
        {
            if (c is < (char)0x20 or '\\' or >= (char)0x7f)
            {
                if (c == '\n' && allowNewline)
                {
                    continue;
                }
                return false;
            }
        }
        return true;
    }

    private static int LongestLine(string text)
    {
        var longest = 0;
        var start = 0;
        while (start <= text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }
            longest = Math.Max(longest, end - start);
            start = end + 1;
        }
        return longest;
    }
}
