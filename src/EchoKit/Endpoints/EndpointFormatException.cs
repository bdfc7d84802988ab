namespace EchoKit.Endpoints;

/// <summary>Thrown when an endpoint or port text cannot be parsed. The message is one line, fit for a user.</summary>
public sealed class EndpointFormatException : FormatException
{
    /// <summary>Creates the exception with a one-line, user-facing message.</summary>
    public EndpointFormatException(string message) : base(message)
    {
    }
}
