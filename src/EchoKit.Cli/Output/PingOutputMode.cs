namespace EchoKit.Cli.Output;

/// <summary>What <c>echokit ping</c> prints while it runs.</summary>
internal enum PingOutputMode
{
    /// <summary>A line per probe, transitions and notes, then the summary.</summary>
    Text,

    /// <summary><c>-q</c>: the summary only.</summary>
    Quiet,

    /// <summary><c>--json</c>: one JSON document at the end.</summary>
    Json,

    /// <summary><c>--json-stream</c>: a JSON object per probe, then the end object.</summary>
    JsonStream,
}
