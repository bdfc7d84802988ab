using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using EchoKit.Bench;
using EchoKit.Server;
using EchoKit.Testing;

namespace EchoKit.Tests.Packaging;

/// <summary>
/// What the packages expose: the public surface of EchoKit.Core, EchoKit.Bench and EchoKit.Testing (tracked in each
/// project's PublicAPI.*.txt by the analyzer), checked here for what the analyzer cannot see.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class PublicSurfaceTests
{
    private static readonly Assembly[] Packages =
    [
        typeof(EchoServer).Assembly,
        typeof(BenchRunner).Assembly,
        typeof(EchoTestServer).Assembly,
    ];

    [Fact]
    public void NoPublicTypeLivesInAnInternalNamespace()
    {
        var leaked = Packages
            .SelectMany(assembly => assembly.GetExportedTypes())
            .Where(type => type.Namespace?.Contains("Internal", StringComparison.Ordinal) == true)
            .Select(type => type.FullName)
            .ToArray();

        Assert.True(leaked.Length == 0, "public types in an Internal namespace: " + string.Join(", ", leaked));
    }

    [Fact]
    public void CoreDependsOnLoggingAbstractionsAlone()
    {
        var references = typeof(EchoServer).Assembly.GetReferencedAssemblies()
            .Select(reference => reference.Name!)
            .Where(name => !name.StartsWith("System.", StringComparison.Ordinal) && name != "System" && name != "netstandard")
            .ToArray();

        Assert.Equal(["Microsoft.Extensions.Logging.Abstractions"], references);
    }

    [Fact]
    public void OnlyTheBenchAndTheTestsSeeCoreInternals()
    {
        var friends = typeof(EchoServer).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>()
            .Select(attribute => attribute.AssemblyName)
            .Order(StringComparer.Ordinal)
            .ToArray();

        // Not the program: `echokit` lives on the public API (docs/packages.md).
        Assert.Equal(["EchoKit.Bench", "EchoKit.Tests"], friends);
    }

    [Fact]
    public async Task UnixListenerReportsItsPathAsATypedEndPointBesideItsUri()
    {
        var directory = Directory.CreateTempSubdirectory("echokit-surface-");
        try
        {
            var path = Path.Combine(directory.FullName, "echo.sock");
            var options = new EchoServerOptions();
            options.Endpoints.Add(ListenEndpoint.Unix(path));
            await using var server = new EchoServer(options);

            await server.StartAsync();

            var listener = Assert.Single(server.Listeners);
            var endPoint = Assert.IsType<UnixDomainSocketEndPoint>(listener.EndPoint);
            Assert.Equal(path, endPoint.ToString());
            Assert.Equal(ListenProtocol.Unix, listener.Protocol);
            Assert.Equal(0, listener.Port);
            Assert.Equal($"unix://{path}", listener.Uri);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TcpListenerReportsItsAddressAsATypedEndPointBesideItsUri()
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        await using var server = new EchoServer(options);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server.StartAsync(timeout.Token);

        var listener = Assert.Single(server.Listeners);
        var endPoint = Assert.IsType<IPEndPoint>(listener.EndPoint);
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        Assert.Equal(endPoint.Port, listener.Port);
        Assert.Equal($"tcp://127.0.0.1:{endPoint.Port}", listener.Uri);
    }
}
