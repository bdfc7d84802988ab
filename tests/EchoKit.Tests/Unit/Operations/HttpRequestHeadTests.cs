using System.Text;
using EchoKit.Cli.Observability;

namespace EchoKit.Tests.Operations;

/// <summary>The metrics endpoint's request line parser, without a socket; the endpoint itself is <c>MetricsHttpServerTests</c>.</summary>
[Trait("Kind", "Unit")]
public sealed class HttpRequestHeadTests
{
    [Theory]
    [InlineData("GET /metrics HTTP/1.1", "GET", "/metrics")]
    [InlineData("GET /readyz?verbose=1 HTTP/1.0", "GET", "/readyz")]
    [InlineData("HEAD / HTTP/1.1\r\nHost: x", "HEAD", "/")]
    public void RequestLineParses(string head, string method, string path)
    {
        var parsed = HttpRequestHead.Parse(Encoding.ASCII.GetBytes(head));

        Assert.Equal((method, path), (parsed.Method, parsed.Path));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("GET /metrics")]
    [InlineData("GET metrics HTTP/1.1")]
    [InlineData("GET /metrics SPDY/3")]
    [InlineData("GET  /metrics HTTP/1.1")]
    public void MalformedRequestLineIsRefused(string head) =>
        Assert.Throws<HttpRequestFormatException>(() => HttpRequestHead.Parse(Encoding.ASCII.GetBytes(head)));
}
