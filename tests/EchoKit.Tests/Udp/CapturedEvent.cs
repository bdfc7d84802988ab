using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Udp;

/// <summary>One log event as a test sees it.</summary>
internal sealed record CapturedEvent(string Name, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)
{
    public long Long(string key) => Convert.ToInt64(Fields[key]);
}
