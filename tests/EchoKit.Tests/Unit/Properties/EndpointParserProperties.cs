using System.Net;
using CsCheck;
using EchoKit.Endpoints;

namespace EchoKit.Tests.Properties;

[Trait("Kind", "Unit")]
public sealed class EndpointParserProperties
{
    [Fact]
    public void AnyTextParsesOrFailsWithOneLineReasonAndNeverThrowsAnythingElse() =>
        PropertyGens.AnyText.Sample(text =>
        {
            if (EndpointParser.TryParse(text, out var endpoint, out var error))
            {
                Assert.InRange(endpoint.Port, 0, 65535);
                Assert.Equal(endpoint, EndpointParser.Parse(text));
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
                Assert.Equal(error, Assert.Throws<EndpointFormatException>(() => EndpointParser.Parse(text)).Message);
            }
        }, iter: 5000);

    [Fact]
    public void AddressAndPortRoundTripThroughTheFormatter() =>
        Gen.Select(PropertyGens.Address, PropertyGens.Port).Sample((address, port) =>
        {
            var text = EndpointResolver.FormatAddress(new IPEndPoint(address, port));

            var parsed = EndpointParser.Parse(text);

            Assert.Equal(port, parsed.Port);
            Assert.Equal(address, IPAddress.Parse(parsed.Host!));
        }, iter: 2000);

    [Fact]
    public void HostNamesWithAPortParseToThatHostAndPort() =>
        Gen.Select(Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], 1, 20], Gen.String[Gen.Char["abcdefghij-"], 0, 10], PropertyGens.Port)
            .Sample((label, tail, port) =>
            {
                var host = $"{label}.{label}{tail}x";
                var parsed = EndpointParser.Parse($"{host}:{port}");

                Assert.Equal((host, port), (parsed.Host, parsed.Port));
            });

    [Fact]
    public void PortsParseBackToTheirNumber() =>
        PropertyGens.Port.Sample(port =>
        {
            Assert.True(EndpointParser.TryParsePort(port.ToString(System.Globalization.CultureInfo.InvariantCulture), out var parsed, out _));
            Assert.Equal(port, parsed);
            Assert.Null(EndpointParser.Parse($":{port}").Host);
        });
}
