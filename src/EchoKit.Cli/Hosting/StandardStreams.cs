using System.Text;
using EchoKit.Cli.Output;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Gives <see cref="Console.Out"/> and <see cref="Console.Error"/> writers of our own, before anything writes:
/// <list type="bullet">
/// <item>Their failures are named (<see cref="StandardStream"/>): <c>echokit --help &gt; /dev/full</c> reports "cannot
/// write output: No space left on device" in one line instead of dying of an unhandled exception.</item>
/// <item>Where one is a terminal, it writes to the raw descriptor. .NET's console stream, on its first write to a
/// terminal, puts the terminal into "application keypad" mode: it writes <c>ESC [?1h ESC =</c> (terminfo's
/// keypad_xmit) and never writes the sequence that takes it back. So every <c>echokit --version</c> or <c>echokit
/// send</c> at a terminal changed what the user's cursor and keypad keys send; a command-line tool must not change its
/// user's terminal. Pipes and files keep the console's own stream (which, for one, swallows EPIPE after <c>| head</c>)
/// and its encoding.</item>
/// </list>
/// </summary>
internal static class StandardStreams
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Installs the writers; call first thing in <c>Main</c>.</summary>
    public static void Install()
    {
        InheritedDescriptors.Capture();
        Console.SetOut(Writer(StandardStreamKind.Output, Console.IsOutputRedirected));
        Console.SetError(Writer(StandardStreamKind.Error, Console.IsErrorRedirected));
    }

    /// <summary>
    /// Standard output (or error) as bytes, as <see cref="Console.Out"/> writes them: the raw descriptor on a terminal,
    /// the console's stream on a pipe or file; named either way (<see cref="StandardStream"/>).
    /// </summary>
    public static Stream Open(StandardStreamKind kind) => StandardStream.Open(kind, () => kind == StandardStreamKind.Output
        ? Console.IsOutputRedirected ? Console.OpenStandardOutput() : StandardOutput.Raw(1)
        : Console.IsErrorRedirected ? Console.OpenStandardError() : StandardOutput.Raw(2));

    // Flushed after every write, as the console's own writers are, so lines interleave in the order they are written.
    private static TextWriter Writer(StandardStreamKind kind, bool redirected)
    {
        // The console's encoding (the locale's), without the byte-order mark the console leaves out too.
        var encoding = redirected && Console.OutputEncoding is { CodePage: not 65001 } locale ? locale : Utf8;
        return TextWriter.Synchronized(new StreamWriter(Open(kind), encoding) { AutoFlush = true });
    }
}
