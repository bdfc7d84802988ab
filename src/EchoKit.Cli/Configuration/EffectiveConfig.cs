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
/// options parse: durations as <c>30s</c>/<c>250ms</c>, endpoints as written, enums in lower case, file modes in
/// octal, port lists as <c>7,13-19</c> or <c>none</c>, and <c>true</c> for an option given without its optional value.
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
                var value = ValueOf(parse, option);
                if (ConfigLayering.NamesAFile(option))
                {
                    // Absolute, so the printed file works from any directory (a config file's own paths are
                    // relative to it, the command line's to the working directory: written out, both say the same).
                    value = value switch
                    {
                        string { Length: > 0 } file => Path.GetFullPath(file),
                        string[] files => files.Select(f => f.Length == 0 ? f : Path.GetFullPath(f)).ToArray(),
                        _ => value,
                    };
                }
                if (ConfigLayering.TakesAnOptionalValue(option) && parse.GetResult(option) is { Implicit: false, Tokens.Count: 0 })
                {
                    // Given alone (--proxy-protocol): what a config file says as true.
                    json.WriteBooleanValue(true);
                }
                else if (value is IEnumerable items and not string and not ISet<int> && option.Arity.MaximumNumberOfValues <= 1)
                {
                    // One value that holds a list (--proxy-protocol tcp,unix) is written as that one value: a file
                    // may give such an option one value only.
                    json.WriteStringValue(string.Join(',', items.Cast<object>().Select(Text)));
                }
                else
                {
                    WriteValue(json, value);
                }
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
            case bool b: json.WriteBooleanValue(b); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case double d: json.WriteNumberValue(d); break;
            // A port list (--udp-deny-source-ports) as its option reads it: an empty list is "none", which a JSON []
            // could not say (it would read back as unset, the default list), and ranges stay ranges.
            case ISet<int> ports: json.WriteStringValue(Parsing.PortList.Format(ports)); break;
            case IEnumerable items and not string:
                json.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(json, item);
                }
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Text(value)); break;
        }
    }

    /// <summary>A value as its option parses it.</summary>
    private static string Text(object value) => value switch
    {
        string s => s,
        TimeSpan t => FormatDuration(t),
        // Octal, as --unix-mode takes it: the enum's own text is "groupread, userwrite, userread".
        UnixFileMode mode => Convert.ToString((int)mode, 8).PadLeft(4, '0'),
        Enum e => e.ToString().ToLowerInvariant(),
        EndpointSpec endpoint => endpoint.Text,
        Encoding encoding => encoding.WebName,
        FileSystemInfo file => file.ToString(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The shortest exact form DurationParser reads back: <c>30s</c>, <c>2m</c>, <c>250ms</c>, <c>1.5s</c>.</summary>
    public static string FormatDuration(TimeSpan duration) => Parsing.DurationParser.Format(duration);
}
