using System.CommandLine;
using EchoKit.Cli.Commands;
using EchoKit.Endpoints;
using YamlDotNet.RepresentationModel;

namespace EchoKit.Tests.Bench;

/// <summary>
/// deploy/k8s/bench-job.yaml cannot run here (no cluster), so its promises are checked as data: an Indexed Job whose
/// pods all run at once, each printing one mergeable JSON result, against the Service the server manifests define,
/// with arguments the real bench command accepts.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class BenchJobManifestTests
{
    private static readonly string K8s = Path.Combine(AppContext.BaseDirectory, "deploy", "k8s");

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(K8s, file));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlNode Get(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            Assert.True(((YamlMappingNode)node).Children.TryGetValue(new YamlScalarNode(key), out var child), $"missing '{key}'");
            node = child!;
        }
        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)Get(node, path)).Value!;

    [Fact]
    public void BenchJobIsAnIndexedJobWhosePodsRunTogether()
    {
        var job = Load("bench-job.yaml");
        Assert.Equal("batch/v1", Text(job, "apiVersion"));
        Assert.Equal("Job", Text(job, "kind"));
        Assert.Equal("Indexed", Text(job, "spec", "completionMode"));
        Assert.Equal(Text(job, "spec", "completions"), Text(job, "spec", "parallelism"));
        Assert.Equal("Never", Text(job, "spec", "template", "spec", "restartPolicy"));
        Assert.Equal("false", Text(job, "spec", "template", "spec", "enableServiceLinks"));
    }

    [Fact]
    public void BenchJobArgumentsParseAsAJsonRunAgainstTheEchoService()
    {
        var job = Load("bench-job.yaml");
        var container = (YamlMappingNode)((YamlSequenceNode)Get(job, "spec", "template", "spec", "containers")).Children.Single();
        var args = ((YamlSequenceNode)Get(container, "args")).Children.Select(a => ((YamlScalarNode)a).Value!).ToArray();

        var parse = new RootCommand { BenchCommand.Create() }.Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal("bench", args[0]);
        Assert.Contains("--json", args);

        var target = EndpointParser.Parse(args[1]);
        var service = Load("service.yaml");
        Assert.Equal(Text(service, "metadata", "name"), target.Host);
        var ports = ((YamlSequenceNode)Get(service, "spec", "ports")).Children.Cast<YamlMappingNode>();
        Assert.Contains(ports, p => Text(p, "port") == target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) && Text(p, "protocol") == "TCP");
        var server = (YamlMappingNode)((YamlSequenceNode)Get(Load("deployment.yaml"), "spec", "template", "spec", "containers")).Children.Single();
        Assert.Equal(Text(server, "image"), Text(container, "image")); // the same image as the server
    }
}
