using EchoKit.Endpoints;

namespace EchoKit.Tests.Endpoints;

[Trait("Kind", "Unit")]
public sealed class EndpointParserTests
{
    [Theory]
    [InlineData("50007", null, 50007)]
    [InlineData(":50007", null, 50007)]
    [InlineData("*:8080", null, 8080)]
    [InlineData("0", null, 0)]
    [InlineData("127.0.0.1:7", "127.0.0.1", 7)]
    [InlineData("0.0.0.0:65535", "0.0.0.0", 65535)]
    [InlineData("localhost:50007", "localhost", 50007)]
    [InlineData("echo.example.org:9", "echo.example.org", 9)]
    [InlineData("[::1]:50007", "::1", 50007)]
    [InlineData("[::]:0", "::", 0)]
    [InlineData("[fe80::1%eth0]:80", "fe80::1%eth0", 80)]
    [InlineData("  127.0.0.1:80  ", "127.0.0.1", 80)]
    public void ParsesEveryEndpointForm(string text, string? host, int port)
    {
        var endpoint = EndpointParser.Parse(text);

        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(host is null, endpoint.IsWildcard);
    }

    [Theory]
    [InlineData("echo", 7)]
    [InlineData("http", 80)]
    [InlineData("smtp", 25)]
    [InlineData("pop3", 110)]
    [InlineData("imap", 143)]
    [InlineData("imap4", 143)]
    [InlineData("nntp", 119)]
    [InlineData("gopher", 70)]
    [InlineData("telnet", 23)]
    [InlineData("ftp", 21)]
    [InlineData("ftp-data", 20)]
    [InlineData("HTTP", 80)]
    public void ResolvesServiceNamesAsPorts(string service, int port)
    {
        Assert.Equal(port, EndpointParser.Parse($"mail.example.org:{service}").Port);
        Assert.Equal(port, EndpointParser.Parse($":{service}").Port);
    }

    [Fact]
    public void LoneServiceNameIsAPortOnAllInterfaces()
    {
        var endpoint = EndpointParser.Parse("echo");

        Assert.Null(endpoint.Host);
        Assert.Equal(7, endpoint.Port);
    }

    [Theory]
    [InlineData("", "empty endpoint")]
    [InlineData("localhost", "no port given")]
    [InlineData("127.0.0.1", "no port given")]
    [InlineData("host:", "missing port")]
    [InlineData("host:65536", "not a number from 0 to 65535")]
    [InlineData("host:-1", "port '-1' is not a number from 0 to 65535")]
    [InlineData("127.0.0.1:-5", "port '-5' is not a number from 0 to 65535")]
    [InlineData("host:nosuchservice", "unknown service name 'nosuchservice'")]
    [InlineData("::1", "brackets")]
    [InlineData("::1:80", "brackets")]
    [InlineData("[::1]", "expected [IPv6]:PORT")]
    [InlineData("[::1:80", "missing ']'")]
    [InlineData("[1.2.3.4]:80", "not an IPv6 address")]
    [InlineData("bad host:80", "not a valid host")]
    [InlineData("12ab:80", null)]
    public void RejectsBadInputWithAOneLineReason(string text, string? reason)
    {
        if (reason is null)
        {
            // "12ab" is a legal host name: this one must parse.
            Assert.Equal(80, EndpointParser.Parse(text).Port);
            return;
        }

        var ok = EndpointParser.TryParse(text, out _, out var error);

        Assert.False(ok);
        Assert.Contains(reason, error);
        Assert.DoesNotContain("\n", error!);
        Assert.Throws<EndpointFormatException>(() => EndpointParser.Parse(text));
    }

    [Theory]
    [InlineData("[::ffff:127.0.0.1]:0", "invalid endpoint '[::ffff:127.0.0.1]:0': write IPv4-mapped addresses as IPv4: 127.0.0.1:0")]
    [InlineData("[::FFFF:10.1.2.3]:echo", "invalid endpoint '[::FFFF:10.1.2.3]:echo': write IPv4-mapped addresses as IPv4: 10.1.2.3:echo")]
    public void ListenEndpointWithAnIpv4MappedAddressIsRefusedWithThePlainIpv4Endpoint(string text, string expected)
    {
        Assert.False(EndpointParser.TryParseListen(text, out var endpoint, out var error));
        Assert.Null(endpoint);
        Assert.Equal(expected, error);
        Assert.Equal(expected, Assert.Throws<EndpointFormatException>(() => EndpointParser.ParseListen(text)).Message);
        Assert.Throws<EndpointFormatException>(() => EchoKit.Server.ListenEndpoint.Tcp(text));
        Assert.Throws<EndpointFormatException>(() => EchoKit.Server.ListenEndpoint.Udp(text));

        // A client may still connect to one: only a listener cannot bind it.
        Assert.True(EndpointParser.TryParse(text, out _, out _));
    }

    [Theory]
    [InlineData("[::1]:7", "::1")]
    [InlineData("127.0.0.1:7", "127.0.0.1")]
    [InlineData(":7", null)]
    [InlineData("localhost:7", "localhost")]
    public void ListenEndpointParsesAsAnyOtherEndpoint(string text, string? host)
    {
        Assert.True(EndpointParser.TryParseListen(text, out var endpoint, out _));
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(7, endpoint.Port);
    }

    [Theory]
    [InlineData(107, null)]
    [InlineData(108, "is longer than 107 bytes")]
    [InlineData(0, "empty Unix socket path")]
    public void AUnixSocketPathIsCheckedAgainstTheSocketAddressInBytes(int bytes, string? error)
    {
        Assert.Contains(error ?? "", EndpointParser.UnixPathError(new string('a', bytes)) ?? "");
        Assert.Equal(error is null, EndpointParser.UnixPathError(new string('a', bytes)) is null);
    }

    [Fact]
    public void AUnixSocketPathIsMeasuredInUtf8BytesNotCharacters()
    {
        // 54 characters of two bytes each: 108 bytes, one too many for sun_path.
        Assert.NotNull(EndpointParser.UnixPathError(new string('é', 54)));
    }
}
