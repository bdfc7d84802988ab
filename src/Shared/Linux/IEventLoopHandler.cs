namespace EchoKit.Internal.Linux;

/// <summary>Something an <see cref="EventLoop"/> calls on its own thread: a descriptor's readiness, or a posted command.</summary>
internal interface IEventLoopHandler
{
    /// <summary>The descriptor registered for this handler is ready (<c>EPOLLIN</c>, <c>EPOLLOUT</c>, <c>EPOLLERR</c>, <c>EPOLLHUP</c>).</summary>
    void OnEvents(uint events);

    /// <summary>
    /// A command another thread posted with <see cref="EventLoop.Post"/>. A handler nobody posts to keeps this
    /// default, which treats any command as the bug it is (the loop's fault handler reports it).
    /// </summary>
    void OnCommand(int command) => throw new InvalidOperationException($"unexpected command {command} for {GetType().Name}");
}
