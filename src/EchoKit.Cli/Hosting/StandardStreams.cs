using System.Text;
using EchoKit.Cli.Output;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Where standard output or error is a terminal, gives <see cref="Console.Out"/> or <see cref="Console.Error"/> a
/// writer of our own on the raw descriptor, before anything writes. .NET's console stream, on its first write to a
/// terminal, puts the terminal into "application keypad" mode: it writes <c>ESC [?1h ESC =</c> (terminfo's
/// keypad_xmit) and never writes the sequence that takes it back. So every <c>echokit --version</c> or <c>echokit
/// send</c> at a terminal changed what the user's cursor and keypad keys send; a command-line tool must not change its
/// user's terminal. Pipes and files keep the console's own stream (which, for one, swallows EPIPE after <c>| head</c>).
/// </summary>
internal static class StandardStreams
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Installs the writers; call first thing in <c>Main</c>.</summary>
    public static void Install()
    {
        if (!Console.IsOutputRedirected)
        {
            Console.SetOut(Writer(1));
        }
        if (!Console.IsErrorRedirected)
        {
            Console.SetError(Writer(2));
        }
    }

    // Flushed after every write, as the console's own writers are, so lines interleave in the order they are written.
    private static TextWriter Writer(int fd) => TextWriter.Synchronized(new StreamWriter(StandardOutput.Raw(fd), Utf8) { AutoFlush = true });
}
