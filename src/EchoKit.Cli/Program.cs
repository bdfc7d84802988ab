using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using EchoKit.Cli.Commands;
using EchoKit.Cli.Configuration;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Parsing;

namespace EchoKit.Cli;

/// <summary>
/// The <c>echokit</c> program: parses the command line and hands over to one command
/// (<see cref="ServeCommand"/>, <see cref="SendCommand"/>, <see cref="ConnectCommand"/>, <see cref="BenchCommand"/>).
/// Each command wires signals and output into the library. Conventions every command shares live here: one
/// wording for an unknown option, <c>--</c> ends the options, errors name the command as typed
/// (<c>echokit bench merge</c>), help from <see cref="HelpRenderer"/> (also as <c>echokit help COMMAND</c>), and a bare <c>echokit</c> prints the usage.
/// </summary>
internal static partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        StandardStreams.Install();
        RuntimeTuning.Apply();
        try
        {
            return await RunAsync(CreateRoot(), args);
        }
        catch (StandardStreamException ex)
        {
            return StreamFailed(ex);
        }
    }

    /// <summary>
    /// Standard input, output or error failed under a command (Hosting/StandardStream): one line, as cat and nc say it,
    /// and exit 1; 141 when nobody reads standard output any more, the status C tools die with of SIGPIPE.
    /// </summary>
    internal static int StreamFailed(StandardStreamException failure)
    {
        if (failure.Stream == StandardStreamKind.Output && failure.IsBrokenPipe)
        {
            return ExitCodes.OutputClosed;
        }
        if (failure.Stream != StandardStreamKind.Error)
        {
            try
            {
                Console.Error.WriteLine($"echokit: {failure.Line}");
            }
            catch (StandardStreamException)
            {
                // stderr fails as well: there is nowhere left to say it; the exit code does.
            }
        }
        return ExitCodes.Failure;
    }

    /// <summary>The whole command tree, with EchoKit's help on every command.</summary>
    internal static RootCommand CreateRoot()
    {
        var root = new RootCommand("EchoKit: a socket echo server, client and load generator.")
        {
            ServeCommand.Create(),
            SendCommand.Create(),
            ConnectCommand.Create(),
            BenchCommand.Create(),
            PingCommand.Create(),
            ProbeCommand.Create(),
        };
        UseEchokitHelp(root);
        return root;
    }

    /// <summary>EchoKit's help on <paramref name="root"/> and every command under it, spelled -h, --help or -?.</summary>
    internal static void UseEchokitHelp(RootCommand root)
    {
        foreach (var option in root.Options.OfType<HelpOption>())
        {
            option.Action = new EchokitHelpAction();
            // No Windows-style /h and /?: the parser splits "/h:x" into the alias and a value, so a value that starts
            // that way (a path such as /h:x, or any text) would print help and exit 0 instead of being taken or refused.
            option.Aliases.Remove("/h");
            option.Aliases.Remove("/?");
        }
    }

    internal static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        if (args.Length == 0)
        {
            HelpRenderer.Write(root, Console.Out);
            return ExitCodes.Ok;
        }
        if (args[0] == "help")
        {
            return await HelpForAsync(root, args[1..]);
        }
        var parse = Parse(root, args);
        var name = HelpRenderer.DisplayName(parse.CommandResult.Command);
        // An unknown option is reported as one, whichever argument slot it would otherwise have filled.
        if (UnknownOption(parse) is { } unknown)
        {
            return await UsageErrorAsync(name, $"unknown option '{unknown}'");
        }
        if (RepeatedOption(parse) is { } repeated)
        {
            return await UsageErrorAsync(name, repeated);
        }
        try
        {
            // Options not given on the command line may come from ECHOKIT_* variables or a --config file.
            parse = ConfigLayering.Apply(parse, args, Environment.GetEnvironmentVariable);
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"{name}: {ex.Message}");
            return ex.IsUnreadableFile ? ExitCodes.Failure : ExitCodes.Usage;
        }
        if (parse.Errors.Count > 0)
        {
            return await UsageErrorAsync(name, Reword(parse.Errors));
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException ex)
        {
            return await UsageErrorAsync(name, ex.Message);
        }
        catch (InputFileException ex)
        {
            await Console.Error.WriteLineAsync($"{name}: {ex.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// Parses <paramref name="args"/> as every command reads them. Response files are off: System.CommandLine would
    /// replace any word that starts with <c>@</c> by a file's contents, so <c>--unix @abstract</c> failed with "Response
    /// file not found" and <c>send HOST:PORT @alice</c> would send a file. ncat and curl users expect the word itself.
    /// </summary>
    internal static ParseResult Parse(RootCommand root, IReadOnlyList<string> args) =>
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>
    /// <c>echokit help probe nat</c>: the help of the command those words name, as git, go and cargo read it. A word
    /// that names no command is a usage error, not the top-level help.
    /// </summary>
    private static async Task<int> HelpForAsync(RootCommand root, string[] words)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        Command command = root;
        foreach (var word in words.TakeWhile(w => w != help.Name && !help.Aliases.Contains(w)))
        {
            var next = command.Subcommands.FirstOrDefault(c => !c.Hidden && (c.Name == word || c.Aliases.Contains(word)));
            if (next is null)
            {
                var name = HelpRenderer.DisplayName(command);
                return await UsageErrorAsync(name, command.Subcommands.Count > 0
                    ? $"unknown command '{word}' ({CommandList(command)})"
                    : $"unexpected argument '{word}'");
            }
            command = next;
        }
        HelpRenderer.Write(command, Console.Out);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The one writer of usage errors. The message often quotes a word of the command line, which may hold control
    /// bytes (<c>$'a\x1bb:7'</c>): they are escaped as peer text is, so the line cannot drive a terminal.
    /// </summary>
    private static async Task<int> UsageErrorAsync(string name, string message)
    {
        var text = Humanize(message);
        if (text.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format))
        {
            text = PeerText.Field(text); // only then: a plain message is never cut at the field length, nor its backslashes doubled
        }
        await Console.Error.WriteLineAsync($"{name}: {text} (see '{name} --help')");
        return ExitCodes.Usage;
    }

    /// <summary>
    /// The first word before <c>--</c> that looks like an option but is none of the command's: an unmatched token,
    /// or one System.CommandLine handed to an argument (an endpoint, a message word, a file name). A lone <c>-</c>
    /// and negative numbers are not options.
    /// </summary>
    internal static string? UnknownOption(ParseResult parse)
    {
        var afterDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        var seenDoubleDash = false;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                seenDoubleDash = true;
            }
            else if (seenDoubleDash)
            {
                afterDoubleDash.Add(token);
            }
        }
        foreach (var token in parse.UnmatchedTokens)
        {
            if (LooksLikeOption(token) && !seenDoubleDash)
            {
                return token;
            }
        }
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
        {
            foreach (var argument in command.Command.Arguments)
            {
                if (parse.GetResult(argument) is not { } argumentResult)
                {
                    continue;
                }
                foreach (var token in argumentResult.Tokens)
                {
                    if (LooksLikeOption(token.Value) && !afterDoubleDash.Contains(token))
                    {
                        return token.Value;
                    }
                }
            }
        }
        return null;
    }

    /// <summary>
    /// An option of one value given more than once, with or without a value each time: <c>-n 3 -n 2</c>, and
    /// <c>-n 3 -n</c>, which System.CommandLine takes as one value and no error. Which one was meant is not ours to guess.
    /// </summary>
    internal static string? RepeatedOption(ParseResult parse)
    {
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
        {
            foreach (var option in command.Children.OfType<OptionResult>())
            {
                if (option is { IdentifierTokenCount: > 1, IdentifierToken: { } identifier, Option: { Arity.MaximumNumberOfValues: 1 } symbol } && symbol.ValueType != typeof(bool))
                {
                    return GivenTimes(identifier.Value, option.IdentifierTokenCount);
                }
            }
        }
        return null;
    }

    private static string GivenTimes(string option, int times) => $"{option} was given {times} times: give it once";

    private static bool LooksLikeOption(string text) =>
        text.Length > 1 && text[0] == '-' && text != "--" && !char.IsAsciiDigit(text[1]) && text[1] != '.';

    /// <summary>System.CommandLine's messages in EchoKit's words: the first that names a word, else the first.</summary>
    private static string Reword(IReadOnlyList<ParseError> errors)
    {
        var error = errors.FirstOrDefault(e => e.Message.Contains("Unrecognized", StringComparison.OrdinalIgnoreCase)) ?? errors[0];
        var message = error.Message;
        if (UnrecognizedPattern().Match(message) is { Success: true } match)
        {
            var word = match.Groups[1].Value;
            return LooksLikeOption(word) ? $"unknown option '{word}'"
                : error.SymbolResult is CommandResult { Command: { Subcommands.Count: > 0, Arguments.Count: 0 } parent }
                    ? $"unknown command '{word}' ({CommandList(parent)})"
                : $"unexpected argument '{word}'";
        }
        if (MissingArgumentPattern().Match(message) is { Success: true } missing)
        {
            return $"missing {missing.Groups[1].Value}";
        }
        if (MissingValuePattern().Match(message) is { Success: true } noValue)
        {
            return $"{noValue.Groups[1].Value} needs a value";
        }
        if (RepeatedOptionPattern().Match(message) is { Success: true } repeated)
        {
            return GivenTimes(repeated.Groups[1].Value, int.Parse(repeated.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        if (message.StartsWith("Required command was not provided", StringComparison.Ordinal))
        {
            return error.SymbolResult is CommandResult { Command: var parent } ? $"missing command ({CommandList(parent)})" : "missing command";
        }
        return message.TrimEnd('.');
    }

    /// <summary>"commands: nat, idle, mtu, lb": what may follow <paramref name="parent"/>, from the command tree itself.</summary>
    private static string CommandList(Command parent) => $"commands: {string.Join(", ", parent.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";

    /// <summary>.NET's TimeSpan text ("00:00:00.0100000") as a user writes it ("10ms"), wherever a message carries one.</summary>
    internal static string Humanize(string message) => TimeSpanPattern().Replace(message, match =>
        TimeSpan.TryParse(match.Value, System.Globalization.CultureInfo.InvariantCulture, out var value) ? DurationParser.Format(value) : match.Value);

    [GeneratedRegex(@"Unrecognized command or argument '([^']*)'")]
    private static partial Regex UnrecognizedPattern();

    [GeneratedRegex(@"Required argument '([^']*)' missing")]
    private static partial Regex MissingArgumentPattern();

    [GeneratedRegex(@"Option '([^']*)' expects a single argument but (\d+) were provided")]
    private static partial Regex RepeatedOptionPattern();

    [GeneratedRegex(@"Required argument missing for option: '([^']*)'")]
    private static partial Regex MissingValuePattern();

    [GeneratedRegex(@"\b(?:\d+\.)?\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?\b")]
    private static partial Regex TimeSpanPattern();
}
