using System.Globalization;
using System.Text;

namespace EchoKit.Cli.Observability;

/// <summary>A complete HTTP/1.1 response, closed after sending: status, content type and body.</summary>
internal sealed record HttpResponse(int StatusCode, string ReasonPhrase, string ContentType, byte[] Body, bool HeadOnly)
{
    /// <summary>The <c>Allow</c> header of a 405 answer.</summary>
    public string? Allow { get; init; }

    public static HttpResponse Text(int status, string reason, string body, bool headOnly = false) =>
        new(status, reason, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(body), headOnly);

    /// <summary>Status line, headers and (unless HEAD) the body, as bytes to send.</summary>
    public byte[] Encode()
    {
        var head = new StringBuilder(160)
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {StatusCode} {ReasonPhrase}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {ContentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}\r\n")
            .Append("Cache-Control: no-store\r\n")
            .Append("Connection: close\r\n");
        if (Allow is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Allow: {Allow}\r\n");
        }
        head.Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        if (HeadOnly)
        {
            return headBytes;
        }
        var all = new byte[headBytes.Length + Body.Length];
        headBytes.CopyTo(all, 0);
        Body.CopyTo(all, headBytes.Length);
        return all;
    }
}
