using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using System.Text;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Writes a command's help: usage, description, arguments, options, subcommands, examples, exit codes. Replaces
/// System.CommandLine's layout, which prints a default twice when the description states it ("Default 30s.
/// [default: 00:00:30]"), shows type names for defaults and puts a parent's arguments in a subcommand's usage.
/// Here a default is shown once, in the form the option parses, and only when the description does not say it.
/// </summary>
internal static class HelpRenderer
{
    private const int Width = 100;

    /// <summary>The command's words after <c>echokit</c>: "", "send", "bench merge".</summary>
    public static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command { } c and not RootCommand; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }
        return string.Join(' ', names);
    }

    /// <summary>The command as a user types it: <c>echokit</c>, <c>echokit bench merge</c>.</summary>
    public static string DisplayName(Command command) => PathOf(command) is { Length: > 0 } path ? $"echokit {path}" : "echokit";

    public static void Write(Command command, TextWriter output)
    {
        var path = PathOf(command);
        var name = DisplayName(command);
        output.WriteLine($"Usage: {Usage(command, name)}");
        if (command.Subcommands.Count > 0 && command is not RootCommand)
        {
            foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
            {
                output.WriteLine($"       {Usage(sub, $"{name} {sub.Name}")}");
            }
        }
        output.WriteLine();
        if (!string.IsNullOrEmpty(command.Description))
        {
            output.WriteLine(command.Description);
            output.WriteLine();
        }

        var arguments = command.Arguments.Where(a => !a.Hidden).Select(a => (ArgumentLabel(a, bare: true), a.Description ?? "")).ToList();
        WriteSection(output, "Arguments:", arguments);
        var commands = command.Subcommands.Where(c => !c.Hidden).Select(c => (c.Name, c.Description ?? "")).ToList();
        WriteSection(output, "Commands:", commands);
        var options = command.Options.Where(o => !o.Hidden && o is not HelpOption and not VersionOption)
            .Select(o => (OptionLabel(o), OptionDescription(o))).ToList();
        options.Add(("-h, --help", "Show this help."));
        if (command is RootCommand)
        {
            options.Add(("--version", "Show the version."));
        }
        WriteSection(output, "Options:", options);
        WriteLines(output, "Examples:", CommandHelp.Examples(path));
        WriteLines(output, "Exit codes:", CommandHelp.ExitCodes(path));
    }

    private static string Usage(Command command, string name)
    {
        var builder = new StringBuilder(name);
        if (command is RootCommand)
        {
            return builder.Append(" COMMAND [options]").ToString();
        }
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            builder.Append(' ').Append(ArgumentLabel(argument, bare: false));
        }
        if (command.Options.Any(o => !o.Hidden && o is not HelpOption and not VersionOption))
        {
            builder.Append(" [options]");
        }
        return builder.ToString();
    }

    /// <summary><c>&lt;ENDPOINT&gt;</c> (required), <c>[MESSAGE...]</c> (optional, repeatable), <c>FILE...</c> (one or more).</summary>
    private static string ArgumentLabel(Argument argument, bool bare)
    {
        var name = argument.HelpName ?? argument.Name;
        var many = argument.Arity.MaximumNumberOfValues > 1;
        var optional = argument.Arity.MinimumNumberOfValues == 0;
        if (bare)
        {
            return many ? $"{name}..." : name;
        }
        return (optional, many) switch
        {
            (true, true) => $"[{name}...]",
            (true, false) => $"[{name}]",
            (false, true) => $"{name}...",
            _ => $"<{name}>",
        };
    }

    private static string OptionLabel(Option option)
    {
        var names = option.Aliases.Append(option.Name).Distinct()
            .OrderBy(n => n.StartsWith("--", StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(n => n == option.Name ? 0 : 1);
        var label = string.Join(", ", names);
        if (option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool))
        {
            return label;
        }
        var value = option.HelpName ?? "VALUE";
        return option.Arity.MinimumNumberOfValues == 0 ? $"{label} [{value}]" : $"{label} {value}";
    }

    private static string OptionDescription(Option option)
    {
        var description = option.Description ?? "";
        if (!option.HasDefaultValue || description.Contains("default", StringComparison.OrdinalIgnoreCase))
        {
            return description;
        }
        return FormatDefault(option.GetDefaultValue()) is { } text ? $"{description} Default {text}." : description;
    }

    /// <summary>A default as a user would type it, or null when there is nothing worth showing (false, empty).</summary>
    public static string? FormatDefault(object? value) => value switch
    {
        null or false => null,
        TimeSpan t => DurationParser.Format(t),
        Encoding e => e.WebName,
        Enum e => e.ToString().ToLowerInvariant(),
        string s => s.Length == 0 ? null : s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => items.Cast<object>().Any() ? string.Join(",", items.Cast<object>()) : null,
        _ => value.ToString(),
    };

    private static void WriteSection(TextWriter output, string title, List<(string Label, string Text)> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }
        output.WriteLine(title);
        var column = Math.Min(rows.Max(r => r.Label.Length) + 4, 40);
        foreach (var (label, text) in rows)
        {
            var lines = Wrap(text, Math.Max(Width - column, 30));
            if (label.Length + 4 > column)
            {
                output.WriteLine($"  {label}");
                foreach (var line in lines)
                {
                    output.WriteLine(new string(' ', column) + line);
                }
                continue;
            }
            for (var i = 0; i < lines.Count; i++)
            {
                output.WriteLine(i == 0 ? ("  " + label).PadRight(column) + lines[i] : new string(' ', column) + lines[i]);
            }
            if (lines.Count == 0)
            {
                output.WriteLine("  " + label);
            }
        }
        output.WriteLine();
    }

    private static void WriteLines(TextWriter output, string title, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }
        output.WriteLine(title);
        foreach (var line in lines)
        {
            output.WriteLine("  " + line);
        }
        output.WriteLine();
    }

    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            if (line.Length > 0)
            {
                line.Append(' ');
            }
            line.Append(word);
        }
        if (line.Length > 0)
        {
            lines.Add(line.ToString());
        }
        return lines;
    }
}
