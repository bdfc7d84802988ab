using System.Text;
using EchoKit.Client;

namespace EchoKit.Tests.Client;

[Trait("Kind", "Unit")]
public sealed class TextStreamDecoderTests
{
    [Fact]
    public void CharacterSplitAcrossReadsComesOutWhole()
    {
        var bytes = Encoding.UTF8.GetBytes("你好, world");
        var decoder = new TextStreamDecoder(Encoding.UTF8);
        var text = new StringBuilder();

        // Feed one byte at a time: every multi-byte character straddles reads.
        foreach (var b in bytes)
        {
            text.Append(decoder.Decode([b]));
        }
        text.Append(decoder.Flush());

        Assert.Equal("你好, world", text.ToString());
    }

    [Fact]
    public void DecodingEachChunkAloneWouldBreakTheSameInput()
    {
        var bytes = Encoding.UTF8.GetBytes("你");
        var naive = Encoding.UTF8.GetString(bytes, 0, 1) + Encoding.UTF8.GetString(bytes, 1, 2);

        Assert.NotEqual("你", naive);
    }

    [Fact]
    public void LegacyCodePagesDecodeStatefullyToo()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var gbk = Encoding.GetEncoding("gbk");
        var bytes = gbk.GetBytes("中文");
        var decoder = new TextStreamDecoder(gbk);

        var first = decoder.Decode(bytes.AsSpan(0, 1)).ToString();
        var rest = decoder.Decode(bytes.AsSpan(1)).ToString() + decoder.Flush().ToString();

        Assert.Equal("", first);
        Assert.Equal("中文", first + rest);
    }

    [Fact]
    public void UnfinishedCharacterAtTheEndBecomesAReplacementCharacter()
    {
        var decoder = new TextStreamDecoder(new UTF8Encoding(false));

        var text = decoder.Decode(new byte[] { 0x41, 0xE4, 0xBD }).ToString() + decoder.Flush().ToString();

        Assert.Equal("A\uFFFD", text);
    }
}
