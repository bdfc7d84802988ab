namespace EchoKit.Cli.Parsing;

/// <summary>An input file (certificate, key, range list) cannot be read or used: the job failed, exit 1, one line.</summary>
internal sealed class InputFileException(string message) : Exception(message);
