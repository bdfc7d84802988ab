using System.Reflection;
using System.Text.RegularExpressions;

namespace EchoKit.Tests;

/// <summary>
/// Every test class says what kind it is, and sits in the folder of that kind, so that
/// <c>dotnet test --filter Kind=Unit</c> runs exactly the fast tests and a reader knows where a new test belongs
/// (tests/README.md): <c>Unit/</c> touches no socket and no process, <c>Functional/</c> runs the library over
/// in-process loopback sockets, <c>Cli/</c> runs the <c>echokit</c> program as a process.
/// </summary>
[Trait("Kind", "Unit")]
public sealed partial class TestKindTests
{
    private static readonly string[] Kinds = ["Unit", "Functional", "Cli"];

    [Fact]
    public void EveryTestClassHasExactlyOneKnownKind()
    {
        var wrong = TestClasses()
            .Select(t => (Type: t, Kinds: KindsOf(t)))
            .Where(c => c.Kinds.Length != 1 || !Kinds.Contains(c.Kinds[0]))
            .Select(c => $"{c.Type.FullName}: [{string.Join(", ", c.Kinds)}]")
            .ToArray();

        Assert.True(wrong.Length == 0, $"test classes without one Kind trait of {string.Join("/", Kinds)}:\n{string.Join("\n", wrong)}");
    }

    [Fact]
    public void EveryTestClassSitsInTheFolderOfItsKind()
    {
        var root = ProjectDirectory();
        var folderOf = new Dictionary<string, string>();
        foreach (var kind in Kinds)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, kind), "*.cs", SearchOption.AllDirectories))
            {
                foreach (Match declared in ClassDeclaration().Matches(File.ReadAllText(file)))
                {
                    folderOf[declared.Groups[1].Value] = kind;
                }
            }
        }

        var misplaced = TestClasses()
            .Select(t => (Type: t, Folder: folderOf.GetValueOrDefault(t.Name), Kind: KindsOf(t).FirstOrDefault()))
            .Where(c => c.Folder != c.Kind)
            .Select(c => $"{c.Type.FullName}: tagged {c.Kind ?? "nothing"}, declared in {c.Folder ?? "no kind folder"}/")
            .ToArray();

        Assert.True(misplaced.Length == 0, $"test classes outside the folder of their kind:\n{string.Join("\n", misplaced)}");
    }

    [Fact]
    public void EachKindHasTests()
    {
        var counts = TestClasses().GroupBy(t => KindsOf(t).FirstOrDefault() ?? "").ToDictionary(g => g.Key, g => g.Count());

        Assert.All(Kinds, kind => Assert.True(counts.GetValueOrDefault(kind) > 0, $"no {kind} test class: the check above would pass vacuously"));
    }

    /// <summary>The classes xunit runs: concrete, with at least one [Fact] or [Theory] (or an attribute derived from them).</summary>
    private static IEnumerable<Type> TestClasses() => typeof(TestKindTests).Assembly.GetTypes()
        .Where(t => t.IsClass && !t.IsAbstract && !t.IsNested)
        .Where(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()));

    /// <summary>The class's own Kind traits (xunit 2 reads traits from the class itself, not from a base class).</summary>
    private static string[] KindsOf(Type type) => type.GetCustomAttributesData()
        .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Kind")
        .Select(a => (string)a.ConstructorArguments[1].Value!)
        .ToArray();

    private static string ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EchoKit.Tests.csproj")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"EchoKit.Tests.csproj above {AppContext.BaseDirectory}: the sources are needed to see folders");
    }

    [GeneratedRegex(@"\bclass\s+(\w+)")]
    private static partial Regex ClassDeclaration();
}
