using EchoKit.Cli.Output;
using EchoKit.Endpoints;
using EchoKit.Server;
using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Observability;

/// <summary>
/// What <c>--metrics ENDPOINT</c> runs beside the echo server: the Prometheus exporter over the server's meter (and
/// the runtime's), and the HTTP endpoint serving it with the health and readiness probes. Without an endpoint it
/// does nothing, and no listener is attached to the meters, so unobserved instruments cost next to nothing.
/// </summary>
internal sealed class MetricsHost(Func<bool> isReady, LineLoggerFactory logs) : IAsyncDisposable
{
    /// <summary>
    /// The meters exported and their name prefixes: the server's (<c>echokit_server_*</c>), the program's output
    /// counter under the same prefix (<see cref="OutputMetrics"/>), and .NET's own for the process (<c>dotnet_gc_*</c>,
    /// <c>dotnet_thread_pool_*</c>, <c>dotnet_process_*</c>...).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ExportedMeters = new Dictionary<string, string>
    {
        [EchoServerMetrics.MeterName] = "echokit_server_",
        [OutputMetrics.MeterName] = "echokit_server_",
        ["System.Runtime"] = "",
    };

    private PrometheusExporter? _exporter;
    private MetricsHttpServer? _http;

    /// <summary>Binds every endpoint and prints a <c>listening http://HOST:PORT</c> line for each bound address.</summary>
    public async Task StartAsync(IReadOnlyList<EndpointSpec> endpoints, CancellationToken cancellationToken)
    {
        if (endpoints.Count == 0)
        {
            return;
        }
        _exporter = new PrometheusExporter(ExportedMeters);
        _http = new MetricsHttpServer(isReady, _exporter.WriteAsync, logs.CreateLogger("EchoKit.Metrics"));
        foreach (var endpoint in endpoints)
        {
            await _http.StartAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        foreach (var listener in _http.Listeners)
        {
            // Printed even with --quiet, like the echo listeners: scripts read the bound port from it.
            logs.Write(LogLevel.Information, "Listening", $"listening {listener.Uri}", ("Listener", listener.Uri), ("Port", listener.Port));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_http is not null)
        {
            await _http.DisposeAsync().ConfigureAwait(false);
        }
        _exporter?.Dispose();
    }
}
