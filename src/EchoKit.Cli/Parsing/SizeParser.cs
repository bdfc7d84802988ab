using System.Globalization;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Parses byte counts and rates as network tools write them. Byte counts are binary, as iperf3's <c>-l 128K</c>:
/// <c>1k</c> = <c>1KiB</c> = <c>1KB</c> = 1024, <c>1M</c> = 1 MiB, <c>1G</c> = 1 GiB. Rates and counts are decimal, as
/// iperf3's <c>-b 10M</c>: <c>10k</c> = 10,000. The one place for both, so every option accepts the same forms.
/// </summary>
internal static class SizeParser
{
    /// <summary>The byte-count forms accepted, for error messages.</summary>
    public const string SizeForms = "a byte count such as 512, 64k, 64KiB, 1M, 1GiB (k, M, G are powers of 1024)";

    /// <summary>The rate and count forms accepted, for error messages.</summary>
    public const string CountForms = "a number such as 500, 2.5k, 10k, 1M (k = 1000, M = 1000000, G = 10^9)";

    /// <summary>Parses a byte count: a whole number of bytes, with an optional binary suffix (k, KB, KiB, M, MB, MiB, G, GB, GiB, B).</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        if (!Split(text, out var number, out var suffix))
        {
            return false;
        }
        long scale = suffix.ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1L << 10,
            "m" or "mb" or "mib" => 1L << 20,
            "g" or "gb" or "gib" => 1L << 30,
            "t" or "tb" or "tib" => 1L << 40,
            _ => 0,
        };
        if (scale == 0 || number * scale > long.MaxValue / 2)
        {
            return false;
        }
        var value = number * scale;
        if (value != Math.Floor(value))
        {
            return false; // 1.5 bytes
        }
        bytes = (long)value;
        return true;
    }

    /// <summary>Parses a rate or count: a number with an optional decimal suffix (k, M, G) and an optional <c>/s</c>.</summary>
    public static bool TryParseCount(string text, out double value)
    {
        value = 0;
        text = text.Trim();
        if (text.EndsWith("/s", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^2];
        }
        if (!Split(text, out var number, out var suffix))
        {
            return false;
        }
        double scale = suffix switch
        {
            "" => 1,
            "k" or "K" => 1e3,
            "M" or "m" => 1e6,
            "G" or "g" => 1e9,
            _ => 0,
        };
        if (scale == 0)
        {
            return false;
        }
        value = number * scale;
        return double.IsFinite(value);
    }

    /// <summary>Parses a whole count (<c>10k</c> = 10000, <c>1M</c>); false for fractions left over (<c>1.5</c>).</summary>
    public static bool TryParseWholeCount(string text, out long value)
    {
        value = 0;
        if (!TryParseCount(text, out var number) || number != Math.Floor(number) || number > long.MaxValue / 2)
        {
            return false;
        }
        value = (long)number;
        return true;
    }

    /// <summary>Formats a byte count in its shortest exact binary form: <c>64KiB</c>, <c>1MiB</c>, <c>1500</c>.</summary>
    public static string FormatBytes(long bytes)
    {
        foreach (var (scale, unit) in new[] { (1L << 30, "GiB"), (1L << 20, "MiB"), (1L << 10, "KiB") })
        {
            if (bytes != 0 && bytes % scale == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / scale}{unit}");
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    private static bool Split(string text, out double number, out string suffix)
    {
        number = 0;
        text = text.Trim().Replace("_", "", StringComparison.Ordinal);
        var end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
        {
            end++;
        }
        suffix = text[end..].Trim();
        return end > 0
            && double.TryParse(text.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number)
            && double.IsFinite(number);
    }
}
