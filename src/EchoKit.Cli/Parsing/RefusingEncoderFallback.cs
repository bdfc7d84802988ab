using System.Text;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Refuses, by name, a character the chosen encoding cannot write: <c>'€' cannot be encoded in latin1</c>. .NET's
/// encodings put '?' in its place by default, so the message sent (and echoed, and "matched") was silently not the
/// user's. The character is shown escaped when it is invisible or turns the text around (<see cref="PeerText"/>).
/// </summary>
internal sealed class RefusingEncoderFallback(string encodingName) : EncoderFallback
{
    public override int MaxCharCount => 0;

    public override EncoderFallbackBuffer CreateFallbackBuffer() => new Refusal(encodingName);

    private sealed class Refusal(string encodingName) : EncoderFallbackBuffer
    {
        public override int Remaining => 0;

        public override bool Fallback(char charUnknown, int index) => throw Refuse(charUnknown.ToString());

        public override bool Fallback(char charUnknownHigh, char charUnknownLow, int index) => throw Refuse(new string([charUnknownHigh, charUnknownLow]));

        public override char GetNextChar() => '\0';

        public override bool MovePrevious() => false;

        private EncoderFallbackException Refuse(string character) => new($"'{PeerText.Field(character)}' cannot be encoded in {encodingName}");
    }
}
