using System.Buffers;
using System.Collections;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Configuration;

/// <summary>
/// Writes the configuration a command runs with as a JSON object keyed like a config file, so the output of
/// <c>--print-config</c> can be saved and read back with <c>--config</c>. Values are written in the forms the
/// options parse: durations as <c>30s</c>/<c>250ms</c>, endpoints as written, enums in lower case.
/// </summary>
internal static class EffectiveConfig
{
    public static string ToJson(ParseResult parse)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var option in ConfigLayering.LayerableOptions(parse.CommandResult.Command))
            {
                json.WritePropertyName(ConfigLayering.KeyOf(option));
                WriteValue(json, ValueOf(parse, option));
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static object? ValueOf(ParseResult parse, Option option) =>
        parse.GetResult(option) is { } result
            ? result.GetValueOrDefault<object?>()
            : option.HasDefaultValue ? option.GetDefaultValue() : null;

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case double d: json.WriteNumberValue(d); break;
            case TimeSpan t: json.WriteStringValue(FormatDuration(t)); break;
            case Enum e: json.WriteStringValue(e.ToString().ToLowerInvariant()); break;
            case EndpointSpec endpoint: json.WriteStringValue(endpoint.Text); break;
            case Encoding encoding: json.WriteStringValue(encoding.WebName); break;
            case FileSystemInfo file: json.WriteStringValue(file.ToString()); break;
            case IEnumerable items:
                json.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(json, item);
                }
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>The shortest exact form DurationParser reads back: <c>30s</c>, <c>2m</c>, <c>250ms</c>, <c>1.5s</c>.</summary>
    public static string FormatDuration(TimeSpan duration) => Parsing.DurationParser.Format(duration);
}
