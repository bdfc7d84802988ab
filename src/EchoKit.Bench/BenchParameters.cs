namespace EchoKit.Bench;

/// <summary>The settings a result was measured with, as recorded in its JSON and report.</summary>
public sealed record BenchParameters
{
    /// <summary>tcp, udp or connect-rate.</summary>
    public required string Mode { get; init; }

    /// <summary>The endpoint as given, and the address actually used.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The resolved address the load went to.</summary>
    public required string Address { get; init; }

    /// <summary>Connections (UDP sockets; concurrent connects in connect-rate mode).</summary>
    public required int Connections { get; init; }

    /// <summary>Messages in flight per connection.</summary>
    public required int Pipeline { get; init; }

    /// <summary>Message size, bytes.</summary>
    public required int Size { get; init; }

    /// <summary>Measured seconds asked for (duration mode), else null.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Messages asked for (message-count mode), else null.</summary>
    public long? MessagesTarget { get; init; }

    /// <summary>Warm-up seconds.</summary>
    public required double WarmupSeconds { get; init; }

    /// <summary>Target rate, messages/s, or null for a closed loop.</summary>
    public double? Rate { get; init; }

    /// <summary>Worker loops used.</summary>
    public required int Workers { get; init; }

    /// <summary>tcp, tls, unix or udp (connect-rate runs over tcp). Null in results written before it was recorded.</summary>
    public string? Transport { get; init; }

    /// <summary>Churn: seconds each connection lived before it was replaced, or null.</summary>
    public double? ConnectionLifetimeSeconds { get; init; }

    /// <summary>Churn: messages each connection carried before it was replaced, or null.</summary>
    public long? MessagesPerConnection { get; init; }

    /// <summary>Seconds over which the connections were opened before measuring (0: at once).</summary>
    public double RampSeconds { get; init; }
}
