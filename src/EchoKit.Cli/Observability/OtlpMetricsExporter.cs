using System.Reflection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EchoKit.Cli.Observability;

/// <summary>
/// What <c>serve --otlp URL</c> runs: pushes the same meters <c>--metrics</c> serves to Prometheus (the server's and
/// the runtime's) to an OpenTelemetry collector, every <see cref="ExportInterval"/>, with OpenTelemetry's OTLP exporter.
/// OTLP over gRPC by default (a collector's port 4317); a URL whose path ends in <c>/v1/metrics</c> is OTLP over HTTP
/// with protobuf (port 4318). Export failures are the exporter's to retry and report through its own event source:
/// a collector that is down never stops the echo server.
/// </summary>
internal sealed class OtlpMetricsExporter : IDisposable
{
    /// <summary>How often metrics are pushed: every 10 s, a collector's usual scrape interval.</summary>
    public static readonly TimeSpan ExportInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long one push may take before it is given up: 5 s.</summary>
    public static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(5);

    private readonly MeterProvider _provider;

    private OtlpMetricsExporter(MeterProvider provider) => _provider = provider;

    /// <summary>The protocol a URL selects.</summary>
    public static OtlpExportProtocol ProtocolOf(Uri endpoint) =>
        endpoint.AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal) ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;

    /// <summary>Starts exporting to <paramref name="endpoint"/>, or does nothing when it is null.</summary>
    public static OtlpMetricsExporter? Start(Uri? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }
        var version = typeof(OtlpMetricsExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("echokit", serviceVersion: version))
            .AddMeter([.. MetricsHost.ExportedMeters.Keys])
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = endpoint;
                exporter.Protocol = ProtocolOf(endpoint);
                // Bounds each push, and so the last one at shutdown when the collector is gone.
                exporter.TimeoutMilliseconds = (int)ExportTimeout.TotalMilliseconds;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)ExportInterval.TotalMilliseconds;
            })
            .Build();
        return new OtlpMetricsExporter(provider);
    }

    /// <summary>Pushes what was measured since the last export (within <see cref="ExportTimeout"/>), then stops.</summary>
    public void Dispose() => _provider.Dispose();
}
