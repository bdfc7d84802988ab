using System.Text;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Looks encodings up by name, including legacy code pages such as gbk and shift_jis. A character the encoding cannot
/// write is refused by name (<see cref="RefusingEncoderFallback"/>), never replaced with '?'; bytes it cannot read
/// (a peer's) still decode as U+FFFD.
/// </summary>
internal static class TextEncodings
{
    static TextEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>
    /// <paramref name="text"/> in <paramref name="encoding"/>; a character it cannot write is a
    /// <see cref="UsageException"/> naming it: the message is the user's to change.
    /// </summary>
    public static byte[] GetBytes(Encoding encoding, string text)
    {
        try
        {
            return encoding.GetBytes(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Encoding? encoding)
    {
        encoding = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || name.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            encoding = new UTF8Encoding(false);
            return true;
        }
        try
        {
            encoding = Encoding.GetEncoding(name, new RefusingEncoderFallback(name), DecoderFallback.ReplacementFallback);
            return true;
        }
        catch (ArgumentException)
        {
            return false; // not a known encoding name
        }
    }
}
