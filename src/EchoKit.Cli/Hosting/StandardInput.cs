using EchoKit.Internal;

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
        var stdin = Console.OpenStandardInput();
        var first = new byte[64 * 1024];
        var read = await stdin.ReadAsync(first);
        if (read == 0)
        {
            await stdin.DisposeAsync();
            return null;
        }
        return new PrefixedStream(first.AsMemory(0, read), stdin);
    }
}
