namespace EchoKit.Bench;

/// <summary>What <see cref="BenchRunner"/> measures.</summary>
public enum BenchMode
{
    /// <summary>TCP connections, each keeping <see cref="BenchOptions.Pipeline"/> messages in flight (or paced by a rate).</summary>
    Tcp,

    /// <summary>UDP datagrams with a sequence number and a send timestamp: loss, duplicates and reordering besides latency.</summary>
    Udp,

    /// <summary>Connections per second: connect, echo one message, close, again.</summary>
    ConnectRate,
}
