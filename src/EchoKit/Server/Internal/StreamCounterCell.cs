using System.Runtime.InteropServices;

namespace EchoKit.Server.Internal;

/// <summary>
/// One epoll loop's byte counts for one stream listener. Only that loop writes them (plain adds, exact because the
/// loop does one thing at a time); <see cref="ListenerMetrics"/> sums every loop's cell with volatile reads when an
/// exporter collects. So echoing a message costs no shared (interlocked) write. The padding keeps two loops' cells
/// off one cache line.
/// </summary>
internal sealed class StreamCounterCell
{
    public Counters Values;

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    internal struct Counters
    {
        [FieldOffset(64)] public long BytesReceived;
        [FieldOffset(72)] public long BytesSent;
    }
}
