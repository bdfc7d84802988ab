using EchoKit.Cli.Hosting;
using Microsoft.Win32.SafeHandles;

namespace EchoKit.Cli.Output;

/// <summary>
/// Standard output as a stream that tells when nobody reads it any more. On a pipe or a terminal it is the raw file
/// descriptor: a write to a pipe whose reader has gone (<c>| head -1</c>) fails with EPIPE, where Console's stream
/// swallows EPIPE and a command would go on writing into nothing for ever (the .NET runtime ignores SIGPIPE, which
/// is what stops <c>ping | head</c> in C). A regular file keeps Console's stream, which writes at (and moves) the
/// shared file offset, so <c>(echokit connect ...; echo done) &gt; log</c> appends in order.
/// </summary>
internal static class StandardOutput
{
    /// <summary>Standard output, its failures named (<see cref="StandardStream"/>).</summary>
    public static Stream Open() => StandardStream.Open(StandardStreamKind.Output, OpenUnnamed);

    private static Stream OpenUnnamed()
    {
        try
        {
            var raw = Raw(1);
            if (!raw.CanSeek)
            {
                return raw;
            }
            raw.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // fd 1 is unusable as a file: let Console decide (it writes nowhere if stdout is closed).
        }
        return Console.OpenStandardOutput();
    }

    /// <summary>
    /// The descriptor <paramref name="fd"/> (1 or 2) as an unbuffered stream of its own: no console code between the
    /// bytes and the descriptor (see also Hosting/StandardStreams). The descriptor stays open when it is disposed.
    /// </summary>
    public static FileStream Raw(int fd) => new(new SafeFileHandle(fd, ownsHandle: false), FileAccess.Write, bufferSize: 0);
}
