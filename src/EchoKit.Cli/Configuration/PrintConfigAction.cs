using System.CommandLine;
using System.CommandLine.Invocation;

namespace EchoKit.Cli.Configuration;

/// <summary>
/// Runs instead of the command when <c>--print-config</c> is given (as <c>--help</c> does): prints the effective
/// configuration and exits 0, after the checks a real start makes
/// (<see cref="ConfigOptions.ValidateWith"/>), so a configuration that cannot start is refused here too. The parse
/// result it gets is the layered one, so the output is exactly what the command would have run with, and it is itself
/// a valid config file. What the start would decide beyond it (the engine of each listener) goes to standard error,
/// one "# " line each.
/// </summary>
internal sealed class PrintConfigAction : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        var notes = ConfigOptions.Validate(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        output.WriteLine(EffectiveConfig.ToJson(parseResult));
        output.Flush();
        var error = parseResult.InvocationConfiguration.Error;
        foreach (var note in notes)
        {
            error.WriteLine($"# {note}");
        }
        error.Flush();
        return ExitCodes.Ok;
    }
}
