namespace EchoKit.Cli.Configuration;

/// <summary>
/// A config file or environment variable is wrong: unreadable file, bad JSON, unknown key, bad value. The message is
/// one line naming the file and key (or the variable); the program prints it and exits 2, or 1 when the file could
/// not be read at all (<see cref="IsUnreadableFile"/>), as <c>send --file</c> does for a missing input file.
/// </summary>
internal sealed class ConfigurationException(string message, bool isUnreadableFile = false) : Exception(message)
{
    /// <summary>The file is missing, a directory or not readable: the job failed, the command line was fine.</summary>
    public bool IsUnreadableFile { get; } = isUnreadableFile;
}
