using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Production;

/// <summary>One log event as the server wrote it: name, level, message and structured fields.</summary>
public sealed record CapturedEvent(string Name, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)
{
    public long Long(string key) => Convert.ToInt64(Fields[key], System.Globalization.CultureInfo.InvariantCulture);

    public string Field(string key) => Fields.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "" : "";
}
