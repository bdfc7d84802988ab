namespace EchoKit.Client;

/// <summary>Settings for <see cref="UdpExchange"/>.</summary>
public sealed class UdpExchangeOptions
{
    /// <summary>How long each try waits for the answer before sending again. Default 2 s; up to 1 hour.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many times the datagram is sent again when no answer came within <see cref="Timeout"/>: UDP may lose the
    /// datagram or its echo. Default 2 (three tries in all). Range 0 to 100.
    /// </summary>
    public int Retries { get; set; } = 2;

    /// <summary>IP version and source address (<c>-4</c>/<c>-6</c>, <c>--source</c>). A Unix socket is not supported here.</summary>
    public ClientTransport Transport { get; set; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException("timeout must be positive and at most 1 hour", nameof(Timeout));
        }
        if (Retries is < 0 or > 100)
        {
            throw new ArgumentException($"retries must be from 0 to 100, not {Retries}", nameof(Retries));
        }
        ArgumentNullException.ThrowIfNull(Transport);
        Transport.Validate();
        if (Transport.UnixSocketPath is not null)
        {
            throw new ArgumentException("UDP over a Unix socket is not supported (Unix listeners are stream sockets)", nameof(Transport));
        }
    }
}
