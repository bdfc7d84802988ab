namespace EchoKit.Probe;

/// <summary>Settings of <see cref="IdleProbe"/>.</summary>
public sealed class IdleProbeOptions
{
    /// <summary>The longest idle period tried. Default 15 minutes. The probe runs for at most about twice this.</summary>
    public TimeSpan Max { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an answer may take after an idle period before the flow counts as lost. Default 2 s.</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Check TCP (outbound echo and server-initiated inbound write). Default on.</summary>
    public bool Tcp { get; set; } = true;

    /// <summary>Check the UDP mapping (an answer the server sends after the idle period). Default on.</summary>
    public bool Udp { get; set; } = true;

    /// <summary>Bisection rounds after the first, growing pass. Default 3 (each round cuts the gap into four).</summary>
    public int BisectRounds { get; set; } = 3;

    /// <summary>The clock for the idle periods; the system clock by default.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
