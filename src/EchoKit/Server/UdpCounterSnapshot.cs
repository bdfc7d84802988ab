namespace EchoKit.Server;

/// <summary>
/// The UDP counters at one moment, summed over every receive loop. Values only grow, except that an echo is counted
/// as answered as it is handed to the kernel, so one whose send fails moves from answered to send errors.
/// </summary>
/// <param name="DatagramsReceived">Datagrams taken from the sockets.</param>
/// <param name="DatagramsAnswered">Datagrams echoed back to their source.</param>
/// <param name="DroppedByRule">Datagrams dropped unanswered by a rule: a denied source port, or the listener's own port.</param>
/// <param name="DroppedByRate">Datagrams dropped unanswered because their source address was over its rate limit.</param>
/// <param name="SendErrors">Echoes the kernel refused to send (e.g. no route back); the datagram stays unanswered.</param>
/// <param name="ReceiveErrors">Receive calls that failed with an error other than shutdown.</param>
/// <param name="BytesReceived">Payload bytes of every datagram received.</param>
/// <param name="BytesSent">Payload bytes of every echo sent.</param>
/// <param name="NewSources">Source addresses seen for the first time (or again after the source table forgot them).</param>
public readonly record struct UdpCounterSnapshot(
    long DatagramsReceived,
    long DatagramsAnswered,
    long DroppedByRule,
    long DroppedByRate,
    long SendErrors,
    long ReceiveErrors,
    long BytesReceived,
    long BytesSent,
    long NewSources)
{
    /// <summary>The counts from <paramref name="earlier"/> to this snapshot.</summary>
    public UdpCounterSnapshot Since(UdpCounterSnapshot earlier) => new(
        DatagramsReceived - earlier.DatagramsReceived,
        DatagramsAnswered - earlier.DatagramsAnswered,
        DroppedByRule - earlier.DroppedByRule,
        DroppedByRate - earlier.DroppedByRate,
        SendErrors - earlier.SendErrors,
        ReceiveErrors - earlier.ReceiveErrors,
        BytesReceived - earlier.BytesReceived,
        BytesSent - earlier.BytesSent,
        NewSources - earlier.NewSources);
}
