using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.Json;
using EchoKit.Internal;

namespace EchoKit.Cli.Configuration;

/// <summary>
/// Gives every option of a configurable command (one that carries <see cref="ConfigOptions.Config"/>) three sources:
/// the command line, then <c>ECHOKIT_NAME</c> environment variables, then a JSON config file. It works on the
/// command's System.CommandLine options themselves: after a first parse, each option not given on the command
/// line takes its value from the environment or the file as extra <c>--name=value</c> tokens, and the command line
/// is parsed again. The option's own parser checks the value, so a file or a variable accepts exactly what the
/// command line accepts, and an option added to the command later is configurable with no code here.
/// </summary>
/// <remarks>
/// Repeatable options take a JSON list, or a comma-separated variable (<c>ECHOKIT_TCP=:7,:7000</c>); a source
/// replaces the values of a lower one, it does not add to them. Environment variables with the prefix that match no
/// option are ignored on purpose: Kubernetes injects <c>ECHOKIT_SERVICE_HOST</c>-style variables for a Service named
/// echokit. An empty variable counts as unset.
/// </remarks>
internal static class ConfigLayering
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 8,
    };

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>Largest config file read: anything bigger is not a config file.</summary>
    internal const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Returns <paramref name="first"/> when there is nothing to layer (the command is not configurable, the
    /// command line has errors, help was asked), else the parse of the command line plus the layered tokens.
    /// Throws <see cref="ConfigurationException"/> naming the file and key, or the variable, of a bad value.
    /// </summary>
    public static ParseResult Apply(ParseResult first, IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var command = first.CommandResult.Command;
        if (first.Errors.Count > 0 || first.Action is HelpAction or Parsing.EchokitHelpAction || !command.Options.Contains(ConfigOptions.Config))
        {
            return first;
        }

        var layered = LayerableOptions(command);
        var chosen = new Dictionary<Option, Source>();

        var path = IsGiven(first, ConfigOptions.Config) ? first.GetValue(ConfigOptions.Config) : NonEmpty(environment(ConfigOptions.ConfigFileVariable));
        if (path is not null)
        {
            foreach (var (option, source) in ReadFile(path, layered))
            {
                chosen[option] = source;
            }
        }
        foreach (var option in layered)
        {
            var name = EnvironmentName(option);
            if (NonEmpty(environment(name)) is { } value)
            {
                chosen[option] = new Source($"environment variable {name}", SplitEnvironment(option, value));
            }
        }
        foreach (var option in layered.Where(o => IsGiven(first, o)))
        {
            chosen.Remove(option); // the command line wins
        }
        if (chosen.Count == 0)
        {
            return first;
        }

        var extra = new List<string>();
        foreach (var (option, source) in chosen)
        {
            extra.AddRange(Tokens(option, source));
        }
        var separator = args.ToList().IndexOf("--");
        var all = args.ToList();
        all.InsertRange(separator < 0 ? all.Count : separator, extra);

        var second = first.RootCommandResult.Command.Parse(all, first.Configuration);
        foreach (var error in second.Errors)
        {
            if (OptionOf(error.SymbolResult) is { } option && chosen.TryGetValue(option, out var source))
            {
                throw new ConfigurationException($"{source.Origin}: {error.Message}");
            }
        }
        foreach (var token in second.UnmatchedTokens)
        {
            // A layered token the parser could not place: name its source rather than "unrecognized argument".
            if (chosen.FirstOrDefault(c => token.StartsWith(c.Key.Name + "=", StringComparison.Ordinal)) is { Value: { } source })
            {
                throw new ConfigurationException($"{source.Origin}: value '{token[(token.IndexOf('=') + 1)..]}' not accepted");
            }
        }
        return second;
    }

    /// <summary>The options a source may set: all of the command's own, less help and the config options themselves.</summary>
    public static IReadOnlyList<Option> LayerableOptions(Command command) =>
        command.Options.Where(o => o is not HelpOption and not VersionOption && o != ConfigOptions.Config && o != ConfigOptions.PrintConfig).ToArray();

    /// <summary>The JSON key of an option: its name without dashes, e.g. <c>shutdown-timeout</c>.</summary>
    public static string KeyOf(Option option) => option.Name.TrimStart('-');

    /// <summary>The environment variable of an option: <c>--shutdown-timeout</c> is <c>ECHOKIT_SHUTDOWN_TIMEOUT</c>.</summary>
    public static string EnvironmentName(Option option) =>
        ConfigOptions.EnvironmentPrefix + KeyOf(option).ToUpperInvariant().Replace('-', '_');

    /// <summary>
    /// True for an option that may be given with or without a value (<c>--proxy-protocol [KINDS]</c>): a source gives
    /// it alone as <c>true</c>, leaves it off with <c>false</c>. Flags (booleans) are not counted: their value is true/false.
    /// </summary>
    public static bool TakesAnOptionalValue(Option option) =>
        option.Arity is { MinimumNumberOfValues: 0, MaximumNumberOfValues: > 0 } && option.ValueType != typeof(bool);

    /// <summary>
    /// True for an option whose values are file paths (its help says FILE or PATH: --tls-cert, --unix,
    /// --allow-file...): a config file's relative value is relative to the file's directory, and --print-config
    /// writes it absolute.
    /// </summary>
    public static bool NamesAFile(Option option) =>
        option.HelpName is "FILE" or "PATH" && option != ConfigOptions.Config;

    /// <summary>
    /// The directory relative paths in the config file at <paramref name="path"/> are relative to: the file's own, as
    /// nginx, systemd and docker-compose do, so a config saved to /etc/echokit works from any working directory. A
    /// config read from a pipe or a device (<c>--config &lt;(...)</c>, /dev/stdin) has no directory of its own: the
    /// working directory, as for the command line.
    /// </summary>
    private static string BaseDirectoryOf(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? Directory.GetCurrentDirectory();
        return full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal)
            ? Directory.GetCurrentDirectory()
            : directory;
    }

    private static bool IsGiven(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static Option? OptionOf(SymbolResult? result) => result switch
    {
        OptionResult option => option.Option,
        ArgumentResult { Parent: OptionResult option } => option.Option,
        _ => null,
    };

    private static IReadOnlyList<string> SplitEnvironment(Option option, string value)
    {
        if (option.Arity.MaximumNumberOfValues > 1)
        {
            return value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        value = value.Trim();
        if (option.ValueType == typeof(bool) || TakesAnOptionalValue(option))
        {
            // Shells and unit files say 1/0 or yes/no as often as true/false.
            value = value.ToLowerInvariant() switch
            {
                "1" or "yes" or "on" => "true",
                "0" or "no" or "off" => "false",
                var other => other,
            };
        }
        return [value];
    }

    private static List<(Option Option, Source Source)> ReadFile(string path, IReadOnlyList<Option> options)
    {
        JsonDocument document;
        try
        {
            ReadOnlyMemory<byte> bytes = BoundedFile.ReadAllBytes(path, MaxFileBytes);
            if (bytes.Span.StartsWith(Utf8ByteOrderMark))
            {
                bytes = bytes[Utf8ByteOrderMark.Length..]; // Notepad and PowerShell's Out-File write one; JSON readers may skip it
            }
            if (InvalidUtf8At(bytes.Span) is { } bad)
            {
                // JsonDocument checks the UTF-8 of a string only when the string is read, and then throws
                // InvalidOperationException: check the whole file first, as JSON text must be UTF-8 (RFC 8259).
                throw new ConfigurationException($"config file {path}: not UTF-8 text at line {bad.Line}, byte {bad.Byte}");
            }
            document = JsonDocument.Parse(bytes, JsonOptions);
        }
        catch (InvalidDataException ex)
        {
            throw new ConfigurationException($"config file {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"config file {path}: invalid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}");
        }
        catch (Exception ex) when (Parsing.FileErrors.IsFileError(ex) || ex is ArgumentException)
        {
            throw new ConfigurationException($"config file {Parsing.FileErrors.Describe(path, ex)}", isUnreadableFile: true);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigurationException($"config file {path}: expected a JSON object of options, e.g. {{\"backlog\": 128}}");
            }
            var byKey = options.ToDictionary(KeyOf, StringComparer.Ordinal);
            var result = new List<(Option, Source)>();
            var seen = new Dictionary<Option, string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = property.Name;
                var normalized = Normalize(key);
                if (normalized is "config" or "print-config")
                {
                    throw new ConfigurationException($"config file {path}: key '{key}' cannot be set in a config file");
                }
                if (!byKey.TryGetValue(normalized, out var option))
                {
                    throw new ConfigurationException($"config file {path}: unknown key '{key}'");
                }
                if (seen.TryGetValue(option, out var earlier))
                {
                    throw new ConfigurationException($"config file {path}: key '{key}' repeats '{earlier}'");
                }
                seen[option] = key;
                var origin = $"config file {path}: key '{key}'";
                var values = Values(property.Value, option, origin);
                if (values is not null && NamesAFile(option))
                {
                    var baseDirectory = BaseDirectoryOf(path);
                    values = values.Select(v => v.Length == 0 ? v : Path.GetFullPath(v, baseDirectory)).ToArray();
                }
                if (values is not null)
                {
                    result.Add((option, new Source(origin, values)));
                }
            }
            return result;
        }
    }

    /// <summary>Where the first byte that is not UTF-8 is (1-based line, and byte in that line); null for valid UTF-8.</summary>
    private static (int Line, int Byte)? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return null;
        }
        var chars = new char[bytes.Length];
        System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out var valid, out _, replaceInvalidSequences: false);
        var head = bytes[..valid];
        var lineStart = head.LastIndexOf((byte)'\n') + 1;
        return (head.Count((byte)'\n') + 1, valid - lineStart + 1);
    }

    /// <summary>The option name a key means: kebab-case as is, camelCase and snake_case converted.</summary>
    private static string Normalize(string key)
    {
        var builder = new System.Text.StringBuilder(key.Length + 4);
        foreach (var c in key)
        {
            if (char.IsUpper(c))
            {
                if (builder.Length > 0)
                {
                    builder.Append('-');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c == '_' ? '-' : c);
            }
        }
        return builder.ToString();
    }

    /// <summary>The text values of a JSON value; null for JSON null, which leaves the option unset.</summary>
    private static IReadOnlyList<string>? Values(JsonElement value, Option option, string origin)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array:
                if (option.Arity.MaximumNumberOfValues <= 1)
                {
                    // Lists are for repeatable options only: [1] for backlog is refused as [1, 2] is.
                    throw new ConfigurationException($"{origin}: takes one value, not a list");
                }
                var values = new List<string>();
                foreach (var item in value.EnumerateArray())
                {
                    values.Add(Scalar(item, origin));
                }
                return values;
            default:
                return [Scalar(value, origin)];
        }
    }

    private static string Scalar(JsonElement value, string origin) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new ConfigurationException($"{origin}: expected a string, number, true/false or a list of them, not {value.ValueKind.ToString().ToLowerInvariant()}"),
    };

    private static IEnumerable<string> Tokens(Option option, Source source)
    {
        if (option.Arity.MaximumNumberOfValues == 0)
        {
            // A flag that takes no value: true sets it, false leaves it off.
            foreach (var value in source.Values)
            {
                if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    yield return option.Name;
                }
                else if (!value.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ConfigurationException($"{source.Origin}: expected true or false, not '{value}'");
                }
            }
            yield break;
        }
        if (TakesAnOptionalValue(option) && source.Values is [var only] && bool.TryParse(only, out var alone))
        {
            // An option whose value may be left out (--proxy-protocol): true gives it alone, false leaves it off.
            if (alone)
            {
                yield return option.Name;
            }
            yield break;
        }
        if (option.ValueType == typeof(bool) && source.Values.FirstOrDefault(v => !bool.TryParse(v, out _)) is { } notBool)
        {
            // Checked here: System.CommandLine would take a non-boolean after a flag for a stray argument.
            throw new ConfigurationException($"{source.Origin}: expected true or false, not '{notBool}'");
        }
        foreach (var value in source.Values)
        {
            // One token, name=value: a value that starts with '-' cannot be taken for an option.
            yield return $"{option.Name}={value}";
        }
    }

    /// <summary>Where a layered value came from, for messages, and its values as text.</summary>
    private sealed record Source(string Origin, IReadOnlyList<string> Values);
}
