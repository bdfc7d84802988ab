using System.Text;

namespace EchoKit.Cli.Observability;

/// <summary>The request line of an HTTP/1.x request: method and path (the query is dropped). Headers are not needed.</summary>
internal readonly record struct HttpRequestHead(string Method, string Path)
{
    /// <summary>Parses the head (without its final blank line); throws <see cref="HttpRequestFormatException"/> when malformed.</summary>
    public static HttpRequestHead Parse(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var line = lineEnd < 0 ? head : head[..lineEnd];
        if (line.Length > 2048 || !Ascii.IsValid(line))
        {
            throw new HttpRequestFormatException("malformed request line");
        }
        var text = Encoding.ASCII.GetString(line);
        var parts = text.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[1].StartsWith('/') && parts[1] != "*" || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new HttpRequestFormatException("malformed request line");
        }
        var query = parts[1].IndexOf('?');
        return new HttpRequestHead(parts[0], query < 0 ? parts[1] : parts[1][..query]);
    }
}
