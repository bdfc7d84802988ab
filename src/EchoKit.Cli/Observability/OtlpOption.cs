using System.CommandLine;

namespace EchoKit.Cli.Observability;

/// <summary><c>serve --otlp URL</c>: where <see cref="OtlpMetricsExporter"/> pushes the metrics.</summary>
internal static class OtlpOption
{
    public static readonly Option<Uri?> Otlp = new("--otlp")
    {
        Description = "Push metrics to an OpenTelemetry collector at URL every 10s: OTLP/gRPC (http://HOST:4317), "
            + "or OTLP/HTTP when the path ends in /v1/metrics (http://HOST:4318/v1/metrics).",
        HelpName = "URL",
        CustomParser = result =>
        {
            var text = result.Tokens[^1].Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
            {
                return uri;
            }
            result.AddError($"invalid value '{text}' for --otlp: expected an http:// or https:// URL, e.g. http://localhost:4317");
            return null;
        },
    };
}
