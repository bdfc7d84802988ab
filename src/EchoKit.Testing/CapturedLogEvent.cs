using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EchoKit.Testing;

/// <summary>One log event as it was written: where, which event, how severe, the message and its structured fields.</summary>
/// <param name="Category">The logger's category, e.g. <c>EchoKit.Server</c>.</param>
/// <param name="Id">The event id; EchoKit's events have stable ids and names.</param>
/// <param name="Level">The level it was logged at.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Fields">The structured fields (the message template's holes), by name.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record CapturedLogEvent(
    string Category,
    EventId Id,
    LogLevel Level,
    string Message,
    IReadOnlyDictionary<string, object?> Fields,
    Exception? Exception)
{
    /// <summary>The event's name (e.g. <c>ConnectionClosed</c>), or its numeric id when it has none.</summary>
    public string Name => Id.Name ?? Id.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A field as invariant text, or an empty string when the event has no such field.</summary>
    /// <param name="name">The field's name, e.g. <c>Reason</c>.</param>
    public string Field(string name) =>
        Fields.TryGetValue(name, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? "" : "";
}
