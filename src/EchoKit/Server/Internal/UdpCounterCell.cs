using System.Runtime.InteropServices;

namespace EchoKit.Server.Internal;

/// <summary>
/// One receive loop's counters. Only that loop writes them (one operation at a time, so plain increments are
/// exact); readers sum them with volatile reads. The padding keeps two loops' cells off one cache line, so loops on
/// different cores never slow each other down by counting.
/// </summary>
internal sealed class UdpCounterCell
{
    public Counters Values;

    [StructLayout(LayoutKind.Explicit, Size = 192)]
    internal struct Counters
    {
        [FieldOffset(64)] public long Received;
        [FieldOffset(72)] public long Answered;
        [FieldOffset(80)] public long DroppedByRule;
        [FieldOffset(88)] public long DroppedByRate;
        [FieldOffset(96)] public long SendErrors;
        [FieldOffset(104)] public long ReceiveErrors;
        [FieldOffset(112)] public long BytesReceived;
        [FieldOffset(120)] public long BytesSent;
        [FieldOffset(128)] public long NewSources;
    }
}
