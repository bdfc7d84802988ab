using System.Text;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Parsing;
using EchoKit.Client;

namespace EchoKit.Cli.Commands;

/// <summary>Writes the echo to stdout as it arrives: raw bytes, text through one stateful decoder, or hex.</summary>
internal sealed class EchoPrinter
{
    // On a terminal the raw descriptor, whose writes leave the terminal's modes alone (Hosting/StandardStreams); on a
    // pipe or file the console's stream, which swallows EPIPE after `| head`. Either way a failed write is named, for
    // Program to report in one line.
    private readonly Stream _stdout = StandardStreams.Open(StandardStreamKind.Output);
    private readonly TextStreamDecoder? _decoder;
    private readonly bool _hex;
    private bool _wroteHex;
    private bool _wroteAny;

    private EchoPrinter(TextStreamDecoder? decoder, bool hex)
    {
        _decoder = decoder;
        _hex = hex;
    }

    public static EchoPrinter ForBytes() => new(null, false);

    public static EchoPrinter ForText(Encoding encoding) => new(new TextStreamDecoder(encoding), false);

    public static EchoPrinter ForHex() => new(null, true);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> echo, CancellationToken cancellationToken)
    {
        _wroteAny |= !echo.IsEmpty;
        if (_hex)
        {
            var text = (_wroteHex ? " " : "") + HexParser.Format(echo.Span);
            _wroteHex = true;
            await _stdout.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        }
        else if (_decoder is not null)
        {
            await WriteTextAsync(_decoder.Decode(echo.Span).ToString(), cancellationToken);
        }
        else
        {
            await _stdout.WriteAsync(echo, cancellationToken);
        }
    }

    /// <summary>Ends the output: flushes the decoder and ends a text or hex reply with a newline.</summary>
    public async ValueTask CompleteAsync()
    {
        if (_decoder is not null)
        {
            var rest = _decoder.Flush().ToString();
            await WriteTextAsync(_wroteAny ? rest + "\n" : rest, CancellationToken.None);
        }
        else if (_hex && _wroteAny)
        {
            await _stdout.WriteAsync("\n"u8.ToArray());
        }
        await _stdout.FlushAsync();
    }

    private ValueTask WriteTextAsync(string text, CancellationToken cancellationToken) =>
        text.Length == 0 ? ValueTask.CompletedTask : _stdout.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
}
