using System.Net;
using CsCheck;

namespace EchoKit.Tests.Properties;

/// <summary>Generators shared by the property tests: addresses, ports and text that looks like what parsers see.</summary>
internal static class PropertyGens
{
    public static readonly Gen<int> Port = Gen.Int[0, 65535];

    public static readonly Gen<IPAddress> IPv4 = Gen.Byte.Array[4].Select(b => new IPAddress(b));

    public static readonly Gen<IPAddress> IPv6 = Gen.Byte.Array[16].Select(b => new IPAddress(b))
        .Where(a => !a.IsIPv4MappedToIPv6);

    public static readonly Gen<IPAddress> Address = Gen.OneOf(IPv4, IPv6);

    /// <summary>Strings over the characters these formats are made of, so random input gets past the first check.</summary>
    public static readonly Gen<string> FormatText =
        Gen.String[Gen.Char["0123456789abcdefABCDEF:.[]/*-, #%xyz\t\r\n\u00e9\u0000"], 0, 40];

    /// <summary>Any text at all, including unpaired surrogates and control characters.</summary>
    public static readonly Gen<string> AnyText = Gen.OneOf(Gen.String, FormatText, Gen.String[Gen.Char, 0, 200]);
}
