using System.Diagnostics.Metrics;
using EchoKit.Cli.Output;

namespace EchoKit.Cli.Observability;

/// <summary>
/// The <c>serve</c> program's own instrument beside the library's: log lines its <see cref="OutputSink"/> dropped
/// because stdout was not read fast enough. Exported with the server's prefix, as
/// <c>echokit_server_log_lines_dropped_total</c> (<see cref="MetricsHost.ExportedMeters"/>), and over OTLP.
/// </summary>
internal sealed class OutputMetrics : IDisposable
{
    /// <summary>The meter: <c>EchoKit.Cli</c> (the program's, apart from the library's <c>EchoKit.Server</c>).</summary>
    public const string MeterName = "EchoKit.Cli";

    /// <summary>Observable counter: log lines dropped by the output sink. No tags (one stdout per process).</summary>
    public const string LogLinesDropped = "log.lines.dropped";

    private readonly Meter _meter;

    public OutputMetrics(OutputSink sink)
    {
        _meter = new Meter(MeterName, typeof(OutputMetrics).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableCounter(LogLinesDropped, () => sink.DroppedLines, "{line}", "Log lines dropped because the output was not read fast enough.");
    }

    public void Dispose() => _meter.Dispose();
}
