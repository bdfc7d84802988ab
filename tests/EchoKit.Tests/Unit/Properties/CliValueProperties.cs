using System.CommandLine;
using System.Globalization;
using CsCheck;
using EchoKit.Cli;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;

namespace EchoKit.Tests.Properties;

/// <summary>The value parsers of the command line: durations, sizes and counts, hex input, port lists.</summary>
[Trait("Kind", "Unit")]
public sealed class CliValueProperties
{
    [Fact]
    public void DurationsInMillisecondsRoundTrip() =>
        Gen.Long[0, 10L * 24 * 3600 * 1000].Sample(ms =>
        {
            foreach (var text in new[] { $"{ms}ms", $"{ms / 1000.0:0.###}s".Replace(',', '.') })
            {
                Assert.True(DurationParser.TryParse(text, out var duration), text);
                Assert.Equal(ms, duration.TotalMilliseconds, 1e-3 * Math.Max(1, ms));
            }
        }, iter: 2000);

    [Fact]
    public void AnyTextIsADurationOrRefusedWithoutThrowing() =>
        Gen.OneOf(PropertyGens.AnyText, Gen.String[Gen.Char["0123456789.msuhMSUH -+e"], 0, 30]).Sample(text =>
        {
            if (DurationParser.TryParse(text, out var duration))
            {
                Assert.True(duration >= TimeSpan.Zero);
            }
        }, iter: 5000);

    [Fact]
    public void CountOptionsAcceptExactlyTheWholeNumbersInTheirRange() =>
        Gen.OneOf(
            Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
            Gen.Int[-100, 20_000].Select(i => i.ToString(CultureInfo.InvariantCulture) + "k"),
            PropertyGens.AnyText).Sample(text =>
        {
            var option = CliOptions.Int("--max-connections", "test", 4096, 1, 16 * 1024 * 1024);
            var command = new RootCommand { option };
            Program.UseEchokitHelp(command);

            var parse = command.Parse(["--max-connections", text]);

            // Plain digits, or digits with the decimal suffix k (README: counts take decimal suffixes, 10k = 10000).
            var plain = System.Text.RegularExpressions.Regex.Match(text, "^(-?[0-9]+)(k?)$");
            if (plain.Success)
            {
                var inRange = long.TryParse(plain.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) &&
                    (plain.Groups[2].Value == "k" ? n * 1000 : n) is var value && value is >= 1 and <= 16 * 1024 * 1024;
                if (inRange)
                {
                    Assert.Empty(parse.Errors);
                    Assert.Equal(plain.Groups[2].Value == "k" ? n * 1000 : n, parse.GetValue(option));
                }
                else
                {
                    Assert.NotEmpty(parse.Errors);
                }
            }
            else if (parse.Errors.Count == 0)
            {
                // Any other form that is taken (1.5k, 2M) still yields a value in range.
                Assert.InRange(parse.GetValue(option), 1, 16 * 1024 * 1024);
            }
        }, iter: 2000);

    [Fact]
    public void HexRoundTripsThroughTheFormatter() =>
        Gen.Byte.Array[0, 100].Sample(bytes =>
        {
            Assert.True(HexParser.TryParse(HexParser.Format(bytes), out var parsed, out var error), error);
            Assert.Equal(bytes, parsed);
            Assert.True(HexParser.TryParse(Convert.ToHexString(bytes), out parsed, out _));
            Assert.Equal(bytes, parsed);
        }, iter: 2000);

    [Fact]
    public void AnyTextIsHexOrRefusedWithAReason() =>
        Gen.OneOf(PropertyGens.AnyText, Gen.String[Gen.Char["0123456789abcdefABCDEFgG :-\n"], 0, 40]).Sample(text =>
        {
            if (HexParser.TryParse(text, out var bytes, out var error))
            {
                Assert.Null(error);
                Assert.Equal(text.Count(Uri.IsHexDigit) / 2, bytes.Length);
            }
            else
            {
                Assert.StartsWith("invalid hex", error);
                Assert.Empty(bytes);
            }
        }, iter: 5000);

    [Fact]
    public void PortListsRoundTripThroughTheirCommaForm() =>
        PropertyGens.Port.Array[1, 20].Sample(ports =>
        {
            var text = string.Join(',', ports);

            Assert.True(PortList.TryParse(text, [], out var parsed, out var error), error);
            Assert.Equal(new SortedSet<int>(ports), parsed);
        });

    [Fact]
    public void PortRangesCoverEveryPortBetweenTheirEnds() =>
        Gen.Select(PropertyGens.Port, Gen.Int[0, 300]).Sample((low, span) =>
        {
            var high = Math.Min(65535, low + span);

            Assert.True(PortList.TryParse($"{low}-{high}", [], out var parsed, out var error), error);
            Assert.Equal(Enumerable.Range(low, high - low + 1), parsed);
        });

    [Fact]
    public void AnyTextIsAPortListOrRefusedWithAReason() =>
        Gen.OneOf(PropertyGens.AnyText, Gen.String[Gen.Char["0123456789,- echodefaultnone"], 0, 40]).Sample(text =>
        {
            if (PortList.TryParse(text, [7, 9], out var ports, out var error))
            {
                Assert.All(ports, p => Assert.InRange(p, 0, 65535));
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }, iter: 5000);
}
