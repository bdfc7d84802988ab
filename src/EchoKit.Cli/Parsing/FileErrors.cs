namespace EchoKit.Cli.Parsing;

/// <summary>
/// Why a file could not be read, in a user's words rather than .NET's ("Could not find file '/x'.", or "Access to
/// the path '/tmp' is denied." for a directory). One wording for every input file: --file, --config, --ca, --tls-cert.
/// </summary>
internal static class FileErrors
{
    public static string Describe(string path, Exception exception) => exception switch
    {
        _ when Directory.Exists(path) => $"{path}: is a directory, not a file",
        FileNotFoundException or DirectoryNotFoundException => $"{path}: no such file",
        UnauthorizedAccessException => $"{path}: permission denied",
        PathTooLongException => $"{path}: path too long",
        _ => $"{path}: cannot read ({exception.GetType().Name.Replace("Exception", "", StringComparison.Ordinal)})",
    };

    /// <summary>True for the exceptions opening or reading a file throws.</summary>
    public static bool IsFileError(Exception exception) => exception is IOException or UnauthorizedAccessException or NotSupportedException;
}
