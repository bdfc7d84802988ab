using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// One loop of the epoll engine: its <see cref="EventLoop"/>, the receive buffer its connections share, and its own
/// byte counters per listener.
/// </summary>
internal sealed class EpollIoLoop(EventLoop loop, int bufferSize)
{
    // Loop thread only. A handful of listeners at most, so a linear search beats a dictionary.
    private (ListenerMetrics Metrics, StreamCounterCell Cell)[] _cells = [];

    public EventLoop Loop { get; } = loop;

    /// <summary>
    /// Every read of every connection on this loop lands here and is sent back at once, so the buffer is free
    /// again before the next connection's turn: one buffer per loop, not per connection.
    /// </summary>
    public byte[] Buffer { get; } = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);

    /// <summary>This loop's counters for <paramref name="metrics"/>' listener, made on first use; loop thread only.</summary>
    public StreamCounterCell CellFor(ListenerMetrics metrics)
    {
        foreach (var (m, cell) in _cells)
        {
            if (ReferenceEquals(m, metrics))
            {
                return cell;
            }
        }
        var added = metrics.AddCell();
        _cells = [.. _cells, (metrics, added)];
        return added;
    }
}
