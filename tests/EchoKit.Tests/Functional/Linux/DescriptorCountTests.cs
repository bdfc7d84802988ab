using EchoKit.Internal.Linux;

namespace EchoKit.Tests.Linux;

[CollectionDefinition(nameof(DescriptorCountTests), DisableParallelization = true)]
public sealed class DescriptorCountCollection;

/// <summary>
/// <see cref="Libc.Descriptors"/>, which the accept loops read near the descriptor limit. It counts the whole process's
/// descriptors, so it runs alone (no other test opening or closing any meanwhile).
/// </summary>
[Collection(nameof(DescriptorCountTests))]
[Trait("Kind", "Functional")]
public sealed class DescriptorCountTests
{
    [Fact]
    public void TheFreeCountFallsByOneForEachDescriptorOpenedAndAgreesWithProcSelfFd()
    {
        var before = Libc.Descriptors()!.Value;
        // Listing /proc/self/fd the .NET way takes one descriptor too, as the count's own listing does.
        Assert.Equal(before.Limit - Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount(), before.Free);

        var handles = Enumerable.Range(0, 5).Select(_ => File.OpenHandle("/dev/null")).ToList();
        try
        {
            var with = Libc.Descriptors()!.Value;
            Assert.Equal(before.Free - 5, with.Free);
        }
        finally
        {
            handles.ForEach(h => h.Dispose());
        }
        Assert.Equal(before.Free, Libc.Descriptors()!.Value.Free);
    }

    [Fact]
    public void CountingAllocatesNothingPerDescriptor()
    {
        var handles = Enumerable.Range(0, 2000).Select(_ => File.OpenHandle("/dev/null")).ToList();
        try
        {
            Libc.Descriptors(); // first call: the P/Invoke stubs
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            Libc.Descriptors();
            // The string-per-entry listing this replaced took about 100 bytes for each of the 2,000 descriptors.
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 1024, $"{GC.GetAllocatedBytesForCurrentThread() - allocated} bytes");
        }
        finally
        {
            handles.ForEach(h => h.Dispose());
        }
    }
}
