using Microsoft.Extensions.Logging;

namespace EchoKit.Bench.Internal;

/// <summary>
/// Log events of the load generator: ids 500-599, stable.
/// </summary>
internal static partial class BenchLog
{
    [LoggerMessage(EventId = 500, EventName = "BenchStarted", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Connections} connection(s), {Pipeline} in flight, {Size} B")]
    public static partial void BenchStarted(ILogger logger, string mode, string target, int connections, int pipeline, int size);

    [LoggerMessage(EventId = 501, EventName = "BenchFinished", Level = LogLevel.Debug,
        Message = "bench {Mode} to {Target}: {Messages} messages in {Seconds:0.###} s, {Errors} error(s), {Mismatches} mismatched byte(s)")]
    public static partial void BenchFinished(ILogger logger, string mode, string target, long messages, double seconds, long errors, long mismatches);
}
