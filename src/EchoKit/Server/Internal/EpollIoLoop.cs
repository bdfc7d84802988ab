using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>One loop of the epoll engine: its <see cref="EventLoop"/> and the receive buffer its connections share.</summary>
internal sealed class EpollIoLoop(EventLoop loop, int bufferSize)
{
    public EventLoop Loop { get; } = loop;

    /// <summary>
    /// Every read of every connection on this loop lands here and is sent back at once, so the buffer is free
    /// again before the next connection's turn: one buffer per loop, not per connection.
    /// </summary>
    public byte[] Buffer { get; } = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);
}
