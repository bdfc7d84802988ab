namespace EchoKit.Cli.Hosting;

/// <summary>Standard input, output or error.</summary>
internal enum StandardStreamKind
{
    Input,
    Output,
    Error,
}
