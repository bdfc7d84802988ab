using EchoKit.Client;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// A read of standard input or a write of standard output or error failed: a full disk (<c>&gt; /dev/full</c>), a
/// descriptor the program was started without (<c>&gt;&amp;-</c>), a directory as input (<c>&lt; /tmp</c>). Not a
/// fault of the program's: <see cref="Program"/> reports it in one line and exits 1, or 141 when the reader of a pipe
/// has gone. The message is the system's words alone, so a caller that wraps it ("cannot read input: ...") reads right.
/// </summary>
internal sealed class StandardStreamException : IOException
{
    public StandardStreamException(StandardStreamKind stream, Exception inner)
        : base(ClientErrors.DescribeStreamError(inner) ?? inner.Message, inner)
    {
        Stream = stream;
        // errno, as .NET's own exception carries it, so ClientErrors.IsBrokenPipe reads this one too.
        HResult = (inner as IOException ?? inner.InnerException as IOException)?.HResult ?? HResult;
    }

    /// <summary>Which stream failed.</summary>
    public StandardStreamKind Stream { get; }

    /// <summary>True when nobody reads standard output any more (EPIPE).</summary>
    public bool IsBrokenPipe => ClientErrors.IsBrokenPipe(this);

    /// <summary>The one line for the user: "cannot write output: No space left on device", the words connect uses.</summary>
    public string Line => Stream == StandardStreamKind.Input ? $"cannot read input: {Message}" : $"cannot write output: {Message}";
}
