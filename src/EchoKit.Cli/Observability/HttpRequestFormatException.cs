namespace EchoKit.Cli.Observability;

/// <summary>A request the metrics endpoint cannot read; the connection is closed and the reason logged at Debug.</summary>
internal sealed class HttpRequestFormatException(string message) : Exception(message);
