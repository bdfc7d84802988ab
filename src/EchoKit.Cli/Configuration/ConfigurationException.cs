namespace EchoKit.Cli.Configuration;

/// <summary>
/// A config file or environment variable is wrong: unreadable file, bad JSON, unknown key, bad value. The message is
/// one line naming the file and key (or the variable); the program prints it and exits 2.
/// </summary>
internal sealed class ConfigurationException(string message) : Exception(message);
