namespace EchoKit.Tests.Faults;

/// <summary>
/// The sockets this test process holds (/proc/self/fd entries linking to <c>socket:[inode]</c>): what a server that
/// leaks connections would leave behind. Other descriptors are not counted: the runtime opens assembly files and
/// pipes lazily whenever a test first needs them, which is no leak.
/// </summary>
internal static class ProcessDescriptors
{
    public static int Count() => Sockets().Count();

    /// <summary>Waits until the process holds no more sockets than <paramref name="baseline"/>; fails listing them.</summary>
    public static async Task WaitForAtMostAsync(int baseline, string what)
    {
        try
        {
            await Support.TestTimeouts.WaitUntilAsync(() => Count() <= baseline, $"{what}: sockets back to {baseline}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; open now: {string.Join(", ", Sockets())}", ex);
        }
    }

    private static IEnumerable<string> Sockets()
    {
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while listing
            }
            if (target is not null && target.StartsWith("socket:", StringComparison.Ordinal))
            {
                yield return $"{Path.GetFileName(entry)}->{target}";
            }
        }
    }
}
