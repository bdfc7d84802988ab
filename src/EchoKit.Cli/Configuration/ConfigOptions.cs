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
    };

    public static readonly Option<bool> PrintConfig = new("--print-config")
    {
        Description = "Print the effective configuration (command line, environment, file, defaults) as JSON and exit.",
        Action = new PrintConfigAction(),
    };
}
