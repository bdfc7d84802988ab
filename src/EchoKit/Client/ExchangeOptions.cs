namespace EchoKit.Client;

/// <summary>Settings for <see cref="EchoExchange"/>.</summary>
public sealed class ExchangeOptions
{
    /// <summary>Bounds connecting and the whole exchange together. Default 10 s; at most 24 days (it runs on a .NET timer, which takes at most 49.7 days).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most bytes sent but not yet echoed back that the client keeps for checking; reading the source pauses
    /// beyond it, so a server that never echoes cannot make the client buffer without bound. Default 4 MiB.
    /// </summary>
    public int MaxUnverifiedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Bytes per socket read and per source read. Default 64 KiB.</summary>
    public int BufferSize { get; set; } = 64 * 1024;

    /// <summary>How to reach the server: Unix socket, IP version, source address. Default: the endpoint's addresses, any source.</summary>
    public ClientTransport Transport { get; set; } = new();

    /// <summary>Run TLS over the connection (SNI, certificate validation as set); null (the default) is plain.</summary>
    public ConnectTlsOptions? Tls { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero || Timeout > EchoKit.Internal.TimerLimits.Longest)
        {
            throw new ArgumentException("timeout must be positive and at most 24 days", nameof(Timeout));
        }
        if (MaxUnverifiedBytes < 1024)
        {
            throw new ArgumentException("max unverified bytes must be at least 1024", nameof(MaxUnverifiedBytes));
        }
        if (BufferSize is < 512 or > 16 * 1024 * 1024)
        {
            throw new ArgumentException("buffer size must be from 512 bytes to 16 MiB", nameof(BufferSize));
        }
        ArgumentNullException.ThrowIfNull(Transport);
        Transport.Validate();
        Tls?.Validate();
    }
}
