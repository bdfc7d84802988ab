using System.CommandLine;
using EchoKit.Cli.Commands;
using EchoKit.Cli.Configuration;
using EchoKit.Cli.Hosting;
using EchoKit.Cli.Parsing;

namespace EchoKit.Cli;

/// <summary>
/// The <c>echokit</c> program: parses the command line and hands over to one command
/// (<see cref="ServeCommand"/>, <see cref="SendCommand"/>, <see cref="ConnectCommand"/>, <see cref="BenchCommand"/>).
/// Each command wires signals and output into the library.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        RuntimeTuning.Apply();
        var root = new RootCommand("EchoKit: a socket echo server, client and load generator.")
        {
            ServeCommand.Create(),
            SendCommand.Create(),
            ConnectCommand.Create(),
            BenchCommand.Create(),
            PingCommand.Create(),
            ProbeCommand.Create(),
        };
        return await RunAsync(root, args);
    }

    internal static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            // Options not given on the command line may come from ECHOKIT_* variables or a --config file.
            parse = ConfigLayering.Apply(parse, args, Environment.GetEnvironmentVariable);
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"echokit {parse.CommandResult.Command.Name}: {ex.Message}");
            return ExitCodes.Usage;
        }
        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command;
            var name = command is RootCommand ? "echokit" : $"echokit {command.Name}";
            // Name the unknown word before a generic "command was not provided".
            var error = parse.Errors.FirstOrDefault(e => e.Message.Contains("Unrecognized", StringComparison.OrdinalIgnoreCase)) ?? parse.Errors[0];
            await Console.Error.WriteLineAsync($"{name}: {error.Message} (see '{name} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException ex)
        {
            var command = parse.CommandResult.Command;
            await Console.Error.WriteLineAsync($"echokit {command.Name}: {ex.Message} (see 'echokit {command.Name} --help')");
            return ExitCodes.Usage;
        }
    }
}
