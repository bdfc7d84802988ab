namespace EchoKit.Tests.Faults;

/// <summary>The file descriptors this test process holds (/proc/self/fd): what a leak would leave behind.</summary>
internal static class ProcessDescriptors
{
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>Waits until the process holds no more descriptors than <paramref name="baseline"/>; fails listing what is open.</summary>
    public static async Task WaitForAtMostAsync(int baseline, string what)
    {
        try
        {
            await Support.TestTimeouts.WaitUntilAsync(() => Count() <= baseline, $"{what}: descriptors back to {baseline}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; open now: {string.Join(", ", Describe())}", ex);
        }
    }

    private static IEnumerable<string> Describe()
    {
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string target;
            try
            {
                target = new FileInfo(entry).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                continue; // closed while listing
            }
            yield return $"{Path.GetFileName(entry)}->{target}";
        }
    }
}
