namespace EchoKit.Bench;

/// <summary>
/// No connection to the target could be made within <see cref="BenchOptions.ConnectTimeout"/>: the run did not start.
/// Raised at once rather than after waiting out the duration, so a CI job fails fast and says why.
/// </summary>
public sealed class BenchConnectException : Exception
{
    /// <summary>Creates the exception for <paramref name="address"/> with a short <paramref name="reason"/>.</summary>
    public BenchConnectException(string address, string reason, Exception? innerException = null)
        : base($"cannot connect to {address}: {reason}", innerException)
    {
        Address = address;
        Reason = reason;
    }

    /// <summary>The address (or Unix socket path) tried.</summary>
    public string Address { get; }

    /// <summary>Why: <c>refused</c>, <c>timed out</c>, <c>unreachable</c>, or another short reason (e.g. a TLS certificate error).</summary>
    public string Reason { get; }
}
