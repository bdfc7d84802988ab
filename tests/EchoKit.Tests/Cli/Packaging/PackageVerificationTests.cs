using EchoKit.Tests.Support;

namespace EchoKit.Tests.Packaging;

/// <summary>
/// The packages as a user meets them: runs build/verify-packages.sh (pack into a temporary feed, install the tool
/// from it and serve/send with it, build and run the xunit and NUnit samples against the feed). SLOW: about a minute
/// of CPU, several minutes on a loaded machine; it runs beside the other tests. Skip it while iterating with
/// <c>dotnet test --filter "Category!=Packages"</c>.
/// </summary>
[Trait("Category", "Packages")]
[Trait("Kind", "Cli")]
public sealed class PackageVerificationTests
{
    private static readonly TimeSpan Bound = TestTimeouts.Build;

    [Fact]
    public async Task PackagesInstallAndWorkWithoutProjectReferences()
    {
        var script = Path.Combine(RepositoryRoot(), "build", "verify-packages.sh");

        var (code, stdout, stderr) = await EchokitProcess.RunProgramAsync("bash", [script], Bound);

        Assert.True(code == 0, $"verify-packages.sh exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.Contains("verify-packages: ok:", stdout, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EchoKit.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no EchoKit.slnx above {AppContext.BaseDirectory}");
    }
}
