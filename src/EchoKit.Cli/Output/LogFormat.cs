namespace EchoKit.Cli.Output;

/// <summary>How server events are printed.</summary>
internal enum LogFormat
{
    /// <summary>One human-readable line per event.</summary>
    Text,
    /// <summary>One JSON object per line per event, with every field of the event.</summary>
    Json,
}
