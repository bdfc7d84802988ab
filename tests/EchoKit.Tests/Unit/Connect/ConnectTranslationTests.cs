using System.Text;
using EchoKit.Client.Internal;

namespace EchoKit.Tests.Connect;

/// <summary>The byte-level pieces of <c>echokit connect</c>: --crlf and --encoding on the way out, decoding and hex on the way in.</summary>
[Trait("Kind", "Unit")]
public sealed class ConnectTranslationTests
{
    [Fact]
    public void CrlfKeepsOneLineEndWhenCrAndLfArriveInSeparateReads()
    {
        var translator = new InputTranslator(crlf: true, encoding: null, maxChunk: 64);

        var first = translator.Translate("a\r"u8.ToArray(), final: false).ToArray();
        var second = translator.Translate("\nb\n\n"u8.ToArray(), final: false).ToArray();

        Assert.Equal("a\r\nb\r\n\r\n", Encoding.ASCII.GetString(first) + Encoding.ASCII.GetString(second));
    }

    [Fact]
    public void EncodingTranscodesUtf8InputSplitMidCharacter()
    {
        var gbk = CodePagesEncodingProvider.Instance.GetEncoding("gbk")!;
        var translator = new InputTranslator(crlf: true, encoding: gbk, maxChunk: 64);
        var utf8 = Encoding.UTF8.GetBytes("中\n");

        var sent = new List<byte>();
        sent.AddRange(translator.Translate(utf8[..1], final: false).ToArray()); // first byte of a 3-byte character
        sent.AddRange(translator.Translate(utf8[1..], final: false).ToArray());
        sent.AddRange(translator.Translate(ReadOnlyMemory<byte>.Empty, final: true).ToArray());

        Assert.Equal(gbk.GetBytes("中\r\n"), sent.ToArray());
    }

    [Fact]
    public async Task TextOutputDecodesCharactersSplitAcrossReads()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, new UTF8Encoding(false), hexDump: false);
        var bytes = Encoding.UTF8.GetBytes("é€😀");

        foreach (var b in bytes)
        {
            await writer.WriteAsync(new[] { b }, CancellationToken.None); // the worst case: one byte per read
        }
        await writer.CompleteAsync(CancellationToken.None);

        Assert.Equal("é€😀", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task HexOutputOffsetsRunOnAcrossReads()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, encoding: null, hexDump: true);

        await writer.WriteAsync(Enumerable.Range(0x41, 16).Select(i => (byte)i).ToArray(), CancellationToken.None);
        await writer.WriteAsync("\0z"u8.ToArray(), CancellationToken.None);

        Assert.Equal(
            "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n" +
            "00000010  00 7a                                             |.z|\n",
            Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task RawOutputPassesBytesThroughUnchanged()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, encoding: null, hexDump: false);
        byte[] binary = [0xff, 0xfe, 0x00, 0x0d, 0x0a, 0xc3];

        await writer.WriteAsync(binary, CancellationToken.None);
        await writer.CompleteAsync(CancellationToken.None);

        Assert.Equal(binary, output.ToArray());
    }

    [Fact]
    public async Task ForATerminalControlBytesAreShownEscapedAndLineBreaksPass()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, encoding: null, hexDump: false, escapeForTerminal: true);
        byte[] sent = [.. "\x1b]0;owned\x07\x1b[2J ok\ttab\r\n"u8, 0xff, 0xc2, 0x9b, .. "\u202e é \\ end\n"u8];

        await writer.WriteAsync(sent, CancellationToken.None);
        await writer.CompleteAsync(CancellationToken.None);

        var shown = output.ToArray();
        Assert.DoesNotContain((byte)0x1b, shown);
        Assert.DoesNotContain((byte)0x07, shown);
        Assert.Equal("\\x1b]0;owned\\x07\\x1b[2J ok\ttab\r\n\\xff\\x9b\\u{202E} é \\ end\n", Encoding.UTF8.GetString(shown));
    }

    [Fact]
    public async Task ForATerminalACharacterSplitAcrossReadsComesOutWholeAndACutOneAtTheEndAsHex()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, encoding: null, hexDump: false, escapeForTerminal: true);
        var bytes = Encoding.UTF8.GetBytes("é€😀");

        foreach (var b in bytes)
        {
            await writer.WriteAsync(new[] { b }, CancellationToken.None); // one byte per read
        }
        await writer.WriteAsync(new byte[] { 0xe2, 0x82 }, CancellationToken.None); // the stream ends mid-character
        await writer.CompleteAsync(CancellationToken.None);

        Assert.Equal("é€😀\\xe2\\x82", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task ForATerminalDecodedTextIsEscapedToo()
    {
        var output = new MemoryStream();
        using var writer = new ReceivedDataWriter(output, Encoding.Latin1, hexDump: false, escapeForTerminal: true);

        await writer.WriteDatagramAsync(new byte[] { 0x1b, (byte)'[', (byte)'H', 0xe9 }, CancellationToken.None);

        Assert.Equal("\\x1b[Hé\n", Encoding.UTF8.GetString(output.ToArray()));
    }
}
