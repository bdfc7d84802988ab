using System.IO.Pipelines;
using Microsoft.Win32.SafeHandles;

namespace EchoKit.Cli.Hosting;

/// <summary>Standard input, as a payload source (send) or as the raw descriptor (connect).</summary>
internal static class StandardInput
{
    /// <summary>
    /// Standard input when it is redirected and has at least one byte; null when it is a terminal, empty (such as
    /// /dev/null under a service manager) or was closed when the program started (<c>&lt;&amp;-</c>), so the caller
    /// can fall back to its default message.
    /// </summary>
    public static async Task<Stream?> TryOpenNonEmptyAsync()
    {
        if (!Console.IsInputRedirected || !InheritedDescriptors.Input)
        {
            return null;
        }
        // A pipe reader can look at the first bytes without taking them: the stream it gives starts with them.
        var reader = PipeReader.Create(StandardStream.Open(StandardStreamKind.Input, Console.OpenStandardInput), new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var first = await reader.ReadAsync();
        if (first.Buffer.IsEmpty && first.IsCompleted)
        {
            await reader.CompleteAsync();
            return null;
        }
        reader.AdvanceTo(first.Buffer.Start);
        return reader.AsStream();
    }

    /// <summary>
    /// Standard input as the raw file descriptor. Console.OpenStandardInput would, on a terminal, run .NET's own line
    /// editor; reading fd 0 directly leaves line editing, echo and Ctrl+D to the terminal, exactly as nc does, and
    /// behaves the same on a pipe. Started with it closed (<c>&lt;&amp;-</c>), the input is empty: fd 0 is then the
    /// runtime's own pipe (<see cref="InheritedDescriptors"/>), which would never end.
    /// </summary>
    public static Stream OpenRaw()
    {
        if (!InheritedDescriptors.Input)
        {
            return Stream.Null;
        }
        try
        {
            return new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // fd 0 is unusable as a file: treat it as empty input.
            return Stream.Null;
        }
    }
}
