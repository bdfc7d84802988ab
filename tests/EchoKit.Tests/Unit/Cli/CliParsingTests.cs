using EchoKit.Cli.Parsing;

namespace EchoKit.Tests.Cli;

[Trait("Kind", "Unit")]
public sealed class CliParsingTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("250ms", 250)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("3", 3_000)]
    public void DurationsParseAsPeopleWriteThem(string text, int milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-1s")]
    [InlineData("10x")]
    public void BadDurationsAreRejected(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Theory]
    [InlineData("24d", null)]
    [InlineData("24.5d", "--timeout must be at most 24d (got '24.5d')")]
    [InlineData("50d", "--timeout must be at most 24d (got '50d')")]
    [InlineData("5000000000", "--timeout must be at most 24d (got '5000000000')")]
    public void EveryDurationOptionRefusesMoreThanItsTimersTake(string text, string? error)
    {
        // .NET timers throw beyond 49.7 days, socket timeouts beyond 24.8: the one parser keeps every option under both.
        Assert.Equal(error, DurationParser.Read(text, "--timeout", allowZero: false, out _));
        Assert.True(DurationParser.Maximum < TimeSpan.FromMilliseconds(int.MaxValue));
    }

    [Theory]
    [InlineData("1us", true, null)]
    [InlineData("0.4us", true, "--timeout must be at least 1us (got '0.4us')")]
    [InlineData("0.0000001s", true, "--timeout must be at least 1us (got '0.0000001s')")]
    [InlineData("0", true, null)]
    [InlineData("1ns", false, "invalid duration '1ns' for --timeout: expected " + DurationParser.AcceptedForms)]
    public void ADurationShorterThanAMicrosecondIsRefusedNotRunAsZero(string text, bool allowZero, string? error) =>
        Assert.Equal(error, DurationParser.Read(text, "--timeout", allowZero, out _));

    [Theory]
    [InlineData("48656c6c6f", new byte[] { 0x48, 0x65, 0x6c, 0x6c, 0x6f })]
    [InlineData("de ad:BE-ef\n", new byte[] { 0xde, 0xad, 0xbe, 0xef })]
    [InlineData("", new byte[0])]
    public void HexParsesWithSeparators(string text, byte[] expected)
    {
        Assert.True(HexParser.TryParse(text, out var bytes, out _));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("abc", "odd number")]
    [InlineData("zz", "not a hex digit")]
    [InlineData("a b", "odd digit")]
    public void BadHexIsRejectedWithAReason(string text, string reason)
    {
        Assert.False(HexParser.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void HexFormatsAsSpacedLowercasePairs() => Assert.Equal("00 7f ff", HexParser.Format(new byte[] { 0, 0x7f, 0xff }));
}
