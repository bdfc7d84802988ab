using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// One loop of the epoll engine: its <see cref="EventLoop"/>, the receive buffer and the splice pipe its connections
/// share, and its own byte counters per listener.
/// </summary>
internal sealed class EpollIoLoop(EventLoop loop, int bufferSize) : IDisposable
{
    // Loop thread only. A handful of listeners at most, so a linear search beats a dictionary.
    private (ListenerMetrics Metrics, StreamCounterCell Cell)[] _cells = [];

    public EventLoop Loop { get; } = loop;

    /// <summary>
    /// Every read of every connection on this loop lands here and is sent back at once, so the buffer is free
    /// again before the next connection's turn: one buffer per loop, not per connection.
    /// </summary>
    public byte[] Buffer { get; } = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);

    /// <summary>
    /// Where bulk reads go instead of <see cref="Buffer"/>: their bytes stay in the kernel, spliced from the socket into
    /// the pipe and straight back out, and the pipe is empty again before the next connection's turn. Room for four
    /// reads, because a splice takes a page of the pipe for every piece of data the socket holds, however small.
    /// Null where no pipe could be made, or where the buffer is smaller than
    /// <see cref="EpollEchoConnection.SpliceThreshold"/> (splicing so little at a time costs more than copying it):
    /// then every read is copied.
    /// </summary>
    public SplicePipe? Pipe { get; } = bufferSize >= EpollEchoConnection.SpliceThreshold ? SplicePipe.TryCreate(4 * bufferSize) : null;

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

    /// <summary>Stops the loop, then closes the pipe.</summary>
    public void Dispose()
    {
        Loop.Dispose();
        Pipe?.Dispose();
    }
}
