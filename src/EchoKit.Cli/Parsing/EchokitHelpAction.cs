using System.CommandLine;
using System.CommandLine.Invocation;

namespace EchoKit.Cli.Parsing;

/// <summary>Runs for <c>--help</c>: writes <see cref="HelpRenderer"/>'s help to stdout, exit 0.</summary>
internal sealed class EchokitHelpAction : SynchronousCommandLineAction
{
    /// <summary>As System.CommandLine's own help: <c>send --help</c> needs no ENDPOINT.</summary>
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var output = parseResult.InvocationConfiguration.Output;
        HelpRenderer.Write(parseResult.CommandResult.Command, output);
        output.Flush();
        return EchoKit.Cli.ExitCodes.Ok;
    }
}
