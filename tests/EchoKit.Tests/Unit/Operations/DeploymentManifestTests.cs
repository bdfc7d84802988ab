using System.CommandLine;
using System.Text.RegularExpressions;
using EchoKit.Cli.Commands;
using EchoKit.Cli.Configuration;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using YamlDotNet.RepresentationModel;

namespace EchoKit.Tests.Operations;

/// <summary>
/// The files in deploy/ cannot run here (no Docker, systemd or cluster), so their promises are checked as data:
/// valid YAML with the expected kinds, probes on the metrics port, a grace period that outlasts the drain,
/// TCP and UDP ports, selectors that select, and ECHOKIT_* variables that are real serve options with valid values.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class DeploymentManifestTests
{
    /// <summary>Variables of options that arrive with other branches (UDP listeners); ignored by serve until then.</summary>
    private static readonly HashSet<string> PendingOptions = [];

    private static readonly string DeployDirectory = Path.Combine(AppContext.BaseDirectory, "deploy");

    private static readonly IReadOnlyList<YamlMappingNode> Documents = LoadManifests();

    private static IReadOnlyList<YamlMappingNode> LoadManifests()
    {
        var documents = new List<YamlMappingNode>();
        foreach (var path in Directory.GetFiles(Path.Combine(DeployDirectory, "k8s"), "*.yaml").Order())
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(path);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => (YamlMappingNode)d.RootNode));
        }
        return documents;
    }

    private static YamlMappingNode Single(string kind) => Documents.Single(d => Text(d, "kind") == kind);

    private static YamlNode Get(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            var mapping = Assert.IsType<YamlMappingNode>(node);
            Assert.True(mapping.Children.TryGetValue(new YamlScalarNode(key), out var child), $"missing '{key}'");
            node = child!;
        }
        return node;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)Get(node, path)).Value!;

    private static IEnumerable<YamlMappingNode> Items(YamlNode node, params string[] path) => ((YamlSequenceNode)Get(node, path)).Children.Cast<YamlMappingNode>();

    private static YamlMappingNode Container => Items(Single("Deployment"), "spec", "template", "spec", "containers").Single();

    private static Dictionary<string, string> ContainerEnvironment => Items(Container, "env").ToDictionary(e => Text(e, "name"), e => Text(e, "value"));

    [Fact]
    public void ManifestsAreValidYamlWithTheExpectedKinds()
    {
        var kinds = Documents.Select(d => (Text(d, "apiVersion"), Text(d, "kind"))).Order().ToArray();

        Assert.Equal(
        [
            ("apps/v1", "Deployment"),
            ("batch/v1", "Job"),
            ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
            ("policy/v1", "PodDisruptionBudget"),
            ("v1", "Service"),
        ], kinds);
        foreach (var resource in ((YamlSequenceNode)Get(Single("Kustomization"), "resources")).Children.Select(r => ((YamlScalarNode)r).Value!))
        {
            Assert.True(File.Exists(Path.Combine(DeployDirectory, "k8s", resource)), $"kustomization lists missing {resource}");
        }
    }

    [Fact]
    public void ProbesAskHealthzAndReadyzOnTheMetricsPort()
    {
        var metricsPort = Items(Container, "ports").Single(p => Text(p, "name") == "metrics");
        var metricsEndpoint = EndpointParser.Parse(ContainerEnvironment["ECHOKIT_METRICS"]);

        Assert.Equal("/healthz", Text(Container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("metrics", Text(Container, "livenessProbe", "httpGet", "port"));
        Assert.Equal("/readyz", Text(Container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("metrics", Text(Container, "readinessProbe", "httpGet", "port"));
        Assert.Equal(metricsEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(metricsPort, "containerPort"));
        Assert.True(metricsEndpoint.IsWildcard, "the kubelet probes the pod IP: metrics must listen on every interface");
    }

    [Fact]
    public void GracePeriodOutlastsPreStopAndShutdownTimeout()
    {
        var grace = int.Parse(Text(Single("Deployment"), "spec", "template", "spec", "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture);
        var preStop = int.Parse(Text(Container, "lifecycle", "preStop", "sleep", "seconds"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(DurationParser.TryParse(ContainerEnvironment["ECHOKIT_SHUTDOWN_TIMEOUT"], out var shutdown));

        Assert.True(grace > preStop + shutdown.TotalSeconds, $"grace {grace}s must exceed preStop {preStop}s + shutdown {shutdown.TotalSeconds}s");
    }

    [Fact]
    public void ServiceCarriesEchoOverTcpAndUdpToNamedContainerPorts()
    {
        var servicePorts = Items(Single("Service"), "spec", "ports").ToArray();
        var containerPorts = Items(Container, "ports").ToDictionary(p => Text(p, "name"));

        Assert.Contains(servicePorts, p => Text(p, "port") == "7" && Text(p, "protocol") == "TCP");
        Assert.Contains(servicePorts, p => Text(p, "port") == "7" && Text(p, "protocol") == "UDP");
        foreach (var port in servicePorts)
        {
            Assert.True(containerPorts.TryGetValue(Text(port, "targetPort"), out var target), $"no container port {Text(port, "targetPort")}");
            Assert.Equal(Text(port, "protocol"), Text(target!, "protocol"));
        }
        var echoPort = EndpointParser.Parse(ContainerEnvironment["ECHOKIT_TCP"]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(echoPort, Text(containerPorts["echo-tcp"], "containerPort"));
    }

    [Fact]
    public void SelectorsSelectThePods()
    {
        var podLabels = ((YamlMappingNode)Get(Single("Deployment"), "spec", "template", "metadata", "labels")).Children
            .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
        var selectors = new[]
        {
            Get(Single("Deployment"), "spec", "selector", "matchLabels"),
            Get(Single("PodDisruptionBudget"), "spec", "selector", "matchLabels"),
            Get(Single("Service"), "spec", "selector"),
        };

        foreach (var selector in selectors.Cast<YamlMappingNode>())
        {
            Assert.NotEmpty(selector.Children);
            foreach (var (key, value) in selector.Children)
            {
                Assert.Equal(((YamlScalarNode)value).Value, podLabels.GetValueOrDefault(((YamlScalarNode)key).Value!));
            }
        }
        var replicas = int.Parse(Text(Single("Deployment"), "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture);
        var maxUnavailable = int.Parse(Text(Single("PodDisruptionBudget"), "spec", "maxUnavailable"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(maxUnavailable, 1, replicas - 1);
    }

    [Fact]
    public void PodRunsAsNonRootWithoutServiceLinks()
    {
        var pod = Get(Single("Deployment"), "spec", "template", "spec");

        Assert.Equal("true", Text(pod, "securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", Text(pod, "securityContext", "runAsUser"));
        Assert.Equal("false", Text(pod, "enableServiceLinks"));
        Assert.Equal("false", Text(Container, "securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("true", Text(Container, "securityContext", "readOnlyRootFilesystem"));
    }

    [Fact]
    public void EveryEchokitVariableIsAServeOptionWithAValidValue()
    {
        var sources = new Dictionary<string, Dictionary<string, string>>
        {
            ["deployment.yaml"] = ContainerEnvironment,
            ["Dockerfile"] = DockerfileEnvironment(),
            ["echokit.service"] = SystemdEnvironment(),
        };
        var root = new RootCommand { ServeCommand.Create() };
        var serve = root.Subcommands.Single();
        var known = ConfigLayering.LayerableOptions(serve).Select(ConfigLayering.EnvironmentName).ToHashSet();

        foreach (var (file, environment) in sources)
        {
            Assert.NotEmpty(environment);
            foreach (var name in environment.Keys)
            {
                Assert.True(known.Contains(name) || PendingOptions.Contains(name), $"{file}: {name} is not an option of echokit serve");
            }
            var parse = ConfigLayering.Apply(root.Parse(["serve"]), ["serve"], environment.GetValueOrDefault);
            Assert.Empty(parse.Errors);
        }
    }

    [Fact]
    public void SystemdUnitBindsPortSevenUnprivilegedAndWaitsOutTheDrain()
    {
        var unit = File.ReadAllLines(Path.Combine(DeployDirectory, "echokit.service"))
            .Where(l => l.Contains('=') && !l.StartsWith('#'))
            .Select(l => (Key: l[..l.IndexOf('=')], Value: l[(l.IndexOf('=') + 1)..]))
            .ToLookup(p => p.Key, p => p.Value);
        var environment = SystemdEnvironment();
        Assert.True(DurationParser.TryParse(environment["ECHOKIT_SHUTDOWN_TIMEOUT"], out var shutdown));

        Assert.Equal("yes", unit["DynamicUser"].Single());
        Assert.Equal("yes", unit["NoNewPrivileges"].Single());
        Assert.Equal("CAP_NET_BIND_SERVICE", unit["AmbientCapabilities"].Single());
        Assert.Equal("CAP_NET_BIND_SERVICE", unit["CapabilityBoundingSet"].Single());
        Assert.Matches(new Regex(@"^/\S*/echokit serve\b"), unit["ExecStart"].Single());
        Assert.Equal(7, EndpointParser.Parse(environment["ECHOKIT_TCP"]).Port);
        Assert.True(int.Parse(unit["TimeoutStopSec"].Single(), System.Globalization.CultureInfo.InvariantCulture) > shutdown.TotalSeconds);
        Assert.Equal("SIGTERM", unit["KillSignal"].Single());
    }

    [Fact]
    public void DockerfileBuildsNativeAotInOneStageAndRunsNonRootInASmallOne()
    {
        var lines = File.ReadAllLines(Path.Combine(DeployDirectory, "Dockerfile")).Where(l => !l.TrimStart().StartsWith('#')).ToArray();
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();
        var final = lines.SkipWhile(l => l != stages[^1]).ToArray();

        Assert.True(stages.Length >= 2, "multi-stage build");
        Assert.Contains(lines, l => l.Contains("PublishAot=true", StringComparison.Ordinal));
        Assert.Matches(new Regex("chiseled|alpine|distroless"), stages[^1]);
        var user = final.Single(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Split(':')[0];
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"final stage must run as a numeric non-root user, not '{user}'");
        Assert.Contains(final, l => l.StartsWith("COPY --from=", StringComparison.Ordinal));
        Assert.Contains(final, l => l.StartsWith("EXPOSE", StringComparison.Ordinal) && l.Contains("/udp", StringComparison.Ordinal));
    }

    private static Dictionary<string, string> SystemdEnvironment() =>
        File.ReadAllLines(Path.Combine(DeployDirectory, "echokit.service"))
            .Where(l => l.StartsWith("Environment=", StringComparison.Ordinal))
            .SelectMany(l => l["Environment=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(a => a.Split('=', 2))
            .ToDictionary(a => a[0], a => a[1]);

    private static Dictionary<string, string> DockerfileEnvironment()
    {
        // ENV A=1 \ B=2 ... : join continuation lines, then split the assignments.
        var text = File.ReadAllText(Path.Combine(DeployDirectory, "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        return text.Split('\n')
            .Where(l => l.StartsWith("ENV ", StringComparison.Ordinal))
            .SelectMany(l => l["ENV ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(a => a.Split('=', 2))
            .ToDictionary(a => a[0], a => a[1]);
    }
}
