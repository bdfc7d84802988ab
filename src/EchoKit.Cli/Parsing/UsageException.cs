namespace EchoKit.Cli.Parsing;

/// <summary>A bad command line detected after parsing (e.g. two options that exclude each other): exit 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
