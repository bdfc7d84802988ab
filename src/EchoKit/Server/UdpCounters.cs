using EchoKit.Server.Internal;

namespace EchoKit.Server;

/// <summary>
/// Counters of a server's UDP traffic (every UDP listener together), safe to read from any thread at any time,
/// e.g. by a metrics exporter. Each receive loop counts in its own cache-line-padded cell without locks or
/// interlocked operations; reading sums the cells, so a read costs a little and a datagram costs nothing extra.
/// </summary>
public sealed class UdpCounters
{
    private readonly Lock _gate = new();
    private UdpCounterCell[] _cells = [];

    /// <summary>Datagrams taken from the sockets.</summary>
    public long DatagramsReceived => Snapshot().DatagramsReceived;

    /// <summary>Datagrams echoed back to their source.</summary>
    public long DatagramsAnswered => Snapshot().DatagramsAnswered;

    /// <summary>Datagrams dropped by a rule (denied source port, the listener's own port).</summary>
    public long DroppedByRule => Snapshot().DroppedByRule;

    /// <summary>Datagrams dropped because their source was over its rate limit.</summary>
    public long DroppedByRate => Snapshot().DroppedByRate;

    /// <summary>Payload bytes received.</summary>
    public long BytesReceived => Snapshot().BytesReceived;

    /// <summary>Payload bytes sent back.</summary>
    public long BytesSent => Snapshot().BytesSent;

    /// <summary>Every counter at once, consistent per receive loop.</summary>
    public UdpCounterSnapshot Snapshot() => Sum(Volatile.Read(ref _cells));

    /// <summary>A new cell for one receive loop; it stays counted after the loop ends.</summary>
    internal UdpCounterCell CreateCell()
    {
        var cell = new UdpCounterCell();
        lock (_gate)
        {
            _cells = [.. _cells, cell];
        }
        return cell;
    }

    internal static UdpCounterSnapshot Sum(IReadOnlyList<UdpCounterCell> cells)
    {
        long received = 0, answered = 0, rule = 0, rate = 0, sendErrors = 0, receiveErrors = 0, bytesIn = 0, bytesOut = 0, sources = 0;
        foreach (var cell in cells)
        {
            received += Volatile.Read(ref cell.Values.Received);
            answered += Volatile.Read(ref cell.Values.Answered);
            rule += Volatile.Read(ref cell.Values.DroppedByRule);
            rate += Volatile.Read(ref cell.Values.DroppedByRate);
            sendErrors += Volatile.Read(ref cell.Values.SendErrors);
            receiveErrors += Volatile.Read(ref cell.Values.ReceiveErrors);
            bytesIn += Volatile.Read(ref cell.Values.BytesReceived);
            bytesOut += Volatile.Read(ref cell.Values.BytesSent);
            sources += Volatile.Read(ref cell.Values.NewSources);
        }
        return new UdpCounterSnapshot(received, answered, rule, rate, sendErrors, receiveErrors, bytesIn, bytesOut, sources);
    }
}
