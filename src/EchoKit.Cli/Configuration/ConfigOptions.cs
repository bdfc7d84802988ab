using System.CommandLine;

namespace EchoKit.Cli.Configuration;

/// <summary>
/// The two options that make a command configurable from a file and the environment. A command opts in by adding
/// <see cref="Config"/> and <see cref="PrintConfig"/> to its options; <see cref="ConfigLayering"/> then layers
/// every other option of that command, including options added later, with no further code.
/// </summary>
internal static class ConfigOptions
{
    /// <summary>Prefix of the environment variables: <c>--shutdown-timeout</c> is <c>ECHOKIT_SHUTDOWN_TIMEOUT</c>.</summary>
    public const string EnvironmentPrefix = "ECHOKIT_";

    /// <summary>The variable that names a config file when <c>--config</c> is not given.</summary>
    public const string ConfigFileVariable = EnvironmentPrefix + "CONFIG";

    public static readonly Option<string> Config = new("--config")
    {
        Description = $"Read options from a JSON file ({{\"backlog\": 128, \"tcp\": [\":7\"]}}); environment variables {EnvironmentPrefix}NAME override it, the command line overrides both. Default: ${ConfigFileVariable}.",
        HelpName = "FILE",
        CustomParser = result =>
        {
            var path = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (path.Length == 0)
            {
                result.AddError("--config: empty file name: give the path of a JSON config file");
            }
            return path;
        },
    };

    public static readonly Option<bool> PrintConfig = new("--print-config")
    {
        Description = "Print the effective configuration (command line, environment, file, defaults) as JSON and exit.",
        Action = new PrintConfigAction(),
    };

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, Func<ParseResult, IReadOnlyList<string>>> Validators = new();

    /// <summary>
    /// Registers the checks a real start of <paramref name="command"/> makes (option combinations, files, ranges), so
    /// <c>--print-config</c> refuses exactly what the command would: a TLS listener without a certificate fails there too.
    /// The checks return notes on what the start would decide that the configuration does not say (which engine
    /// serves each listener); --print-config prints them on standard error, so its standard output stays a config file.
    /// </summary>
    public static void ValidateWith(Command command, Func<ParseResult, IReadOnlyList<string>> validate) => Validators.AddOrUpdate(command, validate);

    /// <summary>Runs the checks registered for the parsed command; throws as the command would. Returns their notes.</summary>
    public static IReadOnlyList<string> Validate(ParseResult parse) =>
        Validators.TryGetValue(parse.CommandResult.Command, out var validate) ? validate(parse) : [];
}
