namespace EchoKit.Cli.Output;

/// <summary>
/// How much an <see cref="OutputSink"/> holds for a slow reader, and what it does when that is full. Both bounds apply:
/// many short lines meet <see cref="MaxLines"/>, a few long ones (<c>--dump hex</c> of a 256 KiB read is about 2.6 MB)
/// meet <see cref="MaxBytes"/>.
/// </summary>
internal sealed class OutputSinkOptions
{
    /// <summary>Default of <see cref="MaxLines"/>: 8192 lines.</summary>
    public const int DefaultMaxLines = 8192;

    /// <summary>Default of <see cref="MaxBytes"/>: 4 MiB, more than one dump line of the largest default read.</summary>
    public const long DefaultMaxBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Lossless: a full sink makes the writer of a line wait for room. For a client's own events, which come from the
    /// command's own threads and must all be seen (<c>echokit connect -v</c>).
    /// </summary>
    public static OutputSinkOptions Lossless { get; } = new();

    /// <summary>Lines held at most, the one being written included. Default <see cref="DefaultMaxLines"/>.</summary>
    public int MaxLines { get; init; } = DefaultMaxLines;

    /// <summary>
    /// Text held at most, the line being written included, counted as .NET holds it (UTF-16, 2 bytes a character).
    /// A single line longer than this is still taken when nothing else is held, so the bound is this or one line,
    /// whichever is larger. Default <see cref="DefaultMaxBytes"/>.
    /// </summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>
    /// When set, a line that does not fit is dropped and counted, and the writer of it goes on at once; the sink writes
    /// this notice (given the number dropped) in the dropped lines' place once it catches up. For the server's events
    /// and dumps, written from I/O threads that must never block (a paused terminal would stop every echo). When null
    /// (the default), the writer of the line waits for room instead and nothing is lost.
    /// </summary>
    public Func<long, string>? DroppedNotice { get; init; }
}
