namespace EchoKit.Ping;

/// <summary>The target cannot be probed at all: its name does not resolve, or has no address of the family asked for.</summary>
public sealed class PingTargetException : Exception
{
    /// <summary>Creates the exception with a one-line reason.</summary>
    public PingTargetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line reason and its cause.</summary>
    public PingTargetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PingTargetException()
        : base("the target cannot be probed")
    {
    }
}
