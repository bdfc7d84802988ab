namespace EchoKit.Cli.Hosting;

/// <summary>Runtime settings that make the default configuration the fast one.</summary>
internal static class RuntimeTuning
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Completes socket operations inline on the epoll thread instead of hopping to the thread pool, which cut the
    /// per-message cost most in the side-by-side benchmarks (docs/benchmarks.md). The runtime reads the variable
    /// once, when its socket engine starts, so this must run before the first socket operation. EchoKit's socket
    /// continuations never block (output goes through a queue), which is what inline completion requires.
    /// A value the user set (e.g. 0) is kept.
    /// </summary>
    public static void Apply()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }
    }
}
