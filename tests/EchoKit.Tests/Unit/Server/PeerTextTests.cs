using System.Text;
using EchoKit.Internal;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Unit")]
public sealed class PeerTextTests
{
    [Fact]
    public void DumpEscapesTerminalControlBytesLikeCatV()
    {
        var text = PeerText.Dump("\u001b[31mred\u0007\r\0end"u8);

        Assert.Equal("\\x1b[31mred\\x07\\r\\0end", text);
    }

    [Fact]
    public void DumpKeepsValidUtf8AndLineBreaksReadable()
    {
        Assert.Equal("héllo wörld ✓\nzweite Zeile\n", PeerText.Dump(Encoding.UTF8.GetBytes("héllo wörld ✓\nzweite Zeile\n")));
    }

    [Fact]
    public void DumpShowsBytesThatAreNotUtf8AsHex()
    {
        Assert.Equal("a\\xffb\\xc3", PeerText.Dump([(byte)'a', 0xff, (byte)'b', 0xc3]));
    }

    [Fact]
    public void StreamDumpHoldsBackACutCharacterForTheNextPieceAndEscapesItWhenFinal()
    {
        byte[] cut = [(byte)'a', 0xff, 0xe2, 0x82];

        Assert.Equal("a\\xff", PeerText.Dump(cut, final: false, out var consumed));
        Assert.Equal(2, consumed);
        Assert.Equal("a\\xff\\xe2\\x82", PeerText.Dump(cut, final: true, out consumed));
        Assert.Equal(4, consumed);
        // A byte that cannot start or continue a sequence is escaped at once, final or not.
        Assert.Equal("a\\x9b", PeerText.Dump([(byte)'a', 0x9b], final: false, out consumed));
        Assert.Equal(2, consumed);
    }

    [Fact]
    public void DumpEscapesC1ControlsAndDirectionOverrides()
    {
        // U+009B is a one-byte CSI on 8-bit terminals; U+202E reverses what follows it on screen.
        Assert.Equal("\\x9b2J \\u{202E}txt.exe", PeerText.Dump("\u009b2J \u202etxt.exe"));
    }

    [Fact]
    public void DumpWritesABackslashDoubledSoEscapesReadBackUnambiguously()
    {
        Assert.Equal("C:\\\\x1b", PeerText.Dump("C:\\x1b"u8));
    }

    [Fact]
    public void DumpWrapsALongLineAndMarksTheBreak()
    {
        var text = PeerText.Dump(Encoding.ASCII.GetBytes(new string('a', PeerText.MaxDumpLineChars * 2 + 10)));

        var lines = text.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.True(line.Length <= PeerText.MaxDumpLineChars + 1));
        Assert.EndsWith("\\", lines[0]);
        Assert.Equal(PeerText.MaxDumpLineChars * 2 + 10, text.Count(c => c == 'a'));
    }

    [Fact]
    public void DumpOfDecodedTextLeavesAHexDumpAsItIs()
    {
        var hex = HexDump.Format(Encoding.ASCII.GetBytes("\u001b[2J and a little more than sixteen bytes"));

        Assert.Equal(hex, PeerText.Dump(hex));
    }

    [Fact]
    public void FieldIsOneLineAndBounded()
    {
        var field = PeerText.Field("GET /\r\nfake: log line\n" + new string('x', 1000));

        Assert.DoesNotContain('\n', field);
        Assert.DoesNotContain('\r', field);
        Assert.StartsWith("GET /\\r\\nfake: log line\\n", field);
        Assert.True(field.Length <= PeerText.MaxFieldChars + 12, field);
        Assert.Matches(@"…\(\+\d+\)$", field);
    }

    [Fact]
    public void FieldOfBytesEscapesAnSniOrTlvValue()
    {
        Assert.Equal("evil\\x1b]0;title\\x07.example", PeerText.Field("evil\u001b]0;title\u0007.example"u8));
    }

    [Fact]
    public void PlainFieldIsReturnedUnchanged()
    {
        const string plain = "127.0.0.1:5000";

        Assert.Same(plain, PeerText.Field(plain));
    }
}
