namespace EchoKit.Cli.Output;

/// <summary>
/// The one line a client command (send, connect) ends with when it fails: <c>echokit: ENDPOINT: reason</c>. A Unix
/// socket's reason already names its path ("no Unix socket at /run/echo.sock"), so that one is not prefixed again.
/// Only a path (it has a '/') is looked for: a port alone ("7") would be found in any reason with a number in it.
/// </summary>
internal static class ClientFailure
{
    public static string Line(string endpoint, string reason) =>
        endpoint.Contains('/', StringComparison.Ordinal) && reason.Contains(endpoint, StringComparison.Ordinal)
            ? $"echokit: {reason}"
            : $"echokit: {endpoint}: {reason}";
}
