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
    /// Bytes a connection reads at a time to begin with (<see cref="EchoServerOptions.ReceiveBufferSize"/>), and the
    /// most a spliced read moves.
    /// </summary>
    public int ReadSize => bufferSize;

    /// <summary>
    /// The most a bulk connection reads at a time, as the sockets engine's bulk buffer grows:
    /// <see cref="EchoServerOptions.MaxReadGrowth"/> times <see cref="ReadSize"/> (<see cref="EpollEchoConnection"/>
    /// doubles a connection's read size while its reads fill it).
    /// </summary>
    public int MaxReadSize => EchoServerOptions.MaxReadGrowth * bufferSize;

    /// <summary>
    /// Every read of every connection on this loop lands here and is sent back at once, so the buffer is free
    /// again before the next connection's turn: one buffer per loop, not per connection. <see cref="MaxReadSize"/> long.
    /// </summary>
    /// <remarks>
    /// Aligned (to a page, so to a cache line too): the kernel copies every read into it and every echo out of it
    /// (<c>rep movsb</c> in <c>copy_to_user</c>/<c>copy_from_user</c>), and a pinned array's bytes start 16 bytes into
    /// the object, off the cache line. Aligned, the engine's cost per S4 message was 0.968 of C's against 0.962
    /// (docs/benchmarks.md, tenth pass); placed at C's own offset in a page (448 bytes, cache-line aligned) it read the
    /// same as page-aligned (eleventh pass). The array is a page longer and the buffer starts at its first page boundary.
    /// </remarks>
    public Span<byte> Buffer => _buffer.Storage.AsSpan(_buffer.Offset, MaxReadSize);

    private const int Alignment = 4096;
    private readonly (byte[] Storage, int Offset) _buffer = AllocateAligned(EchoServerOptions.MaxReadGrowth * bufferSize);

    private static unsafe (byte[] Storage, int Offset) AllocateAligned(int size)
    {
        var storage = GC.AllocateUninitializedArray<byte>(size + Alignment, pinned: true);
        var address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(storage));
        return (storage, (int)((Alignment - (address & (Alignment - 1))) & (Alignment - 1)));
    }

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
