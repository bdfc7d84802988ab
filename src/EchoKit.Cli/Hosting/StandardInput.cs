using System.IO.Pipelines;

namespace EchoKit.Cli.Hosting;

/// <summary>Standard input as a payload source, when there is one.</summary>
internal static class StandardInput
{
    /// <summary>
    /// Standard input when it is redirected and has at least one byte; null when it is a terminal or empty
    /// (such as /dev/null under a service manager), so the caller can fall back to its default message.
    /// </summary>
    public static async Task<Stream?> TryOpenNonEmptyAsync()
    {
        if (!Console.IsInputRedirected)
        {
            return null;
        }
        // A pipe reader can look at the first bytes without taking them: the stream it gives starts with them.
        var reader = PipeReader.Create(new StandardStream(Console.OpenStandardInput(), StandardStreamKind.Input), new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var first = await reader.ReadAsync();
        if (first.Buffer.IsEmpty && first.IsCompleted)
        {
            await reader.CompleteAsync();
            return null;
        }
        reader.AdvanceTo(first.Buffer.Start);
        return reader.AsStream();
    }
}
