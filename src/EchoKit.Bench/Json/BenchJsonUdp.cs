namespace EchoKit.Bench.Json;

/// <summary>The datagram fates of a UDP run.</summary>
internal sealed class BenchJsonUdp
{
    public long Sent { get; set; }

    public long Lost { get; set; }

    public long Duplicated { get; set; }

    public long Reordered { get; set; }

    public long Late { get; set; }
}
