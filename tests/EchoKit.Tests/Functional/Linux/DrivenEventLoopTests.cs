using EchoKit.Internal.Linux;

namespace EchoKit.Tests.Linux;

/// <summary>
/// The event loop driven by its owner's thread (<see cref="EventLoop.Poll"/>), as the load generator's workers run it:
/// readiness is dispatched on the caller's thread, posted commands run there too, and a handler's exception reaches
/// the caller when nobody asked to hear of faults.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class DrivenEventLoopTests
{
    [Fact]
    public void PollThatOnlyLooksReturnsAtOnceWhenNothingIsReady()
    {
        using var loop = new EventLoop("driven");
        using var fd = new EventFd();
        var handler = new Handler(loop);
        Assert.True(loop.Register(fd.Fd, EpollEvents.EPOLLIN, handler) >= 0);

        Assert.Equal(0, loop.Poll(0));
        Assert.Empty(handler.Events);
    }

    [Fact]
    public void ReadyDescriptorIsDispatchedOnTheCallersThread()
    {
        using var loop = new EventLoop("driven");
        using var fd = new EventFd();
        var handler = new Handler(loop);
        var token = loop.Register(fd.Fd, EpollEvents.EPOLLIN, handler);

        fd.Signal();

        Assert.Equal(1, loop.Poll(0));
        Assert.Equal([EpollEvents.EPOLLIN], handler.Events);
        Assert.True(handler.RanOnLoop);
        Assert.True(loop.IsOnLoop);

        // Once forgotten, the still-readable descriptor reports to nobody.
        loop.Unregister(fd.Fd, token);
        Assert.Equal(0, loop.Poll(0));
    }

    [Fact]
    public async Task CommandPostedFromAnotherThreadRunsInTheOwnersPoll()
    {
        using var loop = new EventLoop("driven");
        var handler = new Handler(loop);
        loop.Poll(0); // the test's thread owns the loop from here

        await Task.Run(() => loop.Post(handler, 42)).ConfigureAwait(true);

        // The post signalled the loop's eventfd, so a wait without a timeout returns with it.
        loop.Poll(Timeout.Infinite);
        Assert.Equal([42], handler.Commands);
    }

    [Fact]
    public void HandlerExceptionLeavesPollWithoutAFaultHandler()
    {
        using var loop = new EventLoop("driven");
        using var fd = new EventFd();
        loop.Register(fd.Fd, EpollEvents.EPOLLIN, new Handler(loop) { Throw = true });
        fd.Signal();

        var ex = Assert.Throws<InvalidOperationException>(() => loop.Poll(0));
        Assert.Equal("handler failed", ex.Message);
    }

    [Fact]
    public void HandlerExceptionGoesToTheFaultHandlerAndTheLoopGoesOn()
    {
        var faults = new List<Exception>();
        using var loop = new EventLoop("driven") { OnFault = faults.Add };
        using var fd = new EventFd();
        loop.Register(fd.Fd, EpollEvents.EPOLLIN, new Handler(loop) { Throw = true });
        fd.Signal();

        Assert.Equal(1, loop.Poll(0));
        Assert.Equal(1, loop.Poll(0)); // level-triggered: still readable, reported again
        Assert.Equal(2, faults.Count);
    }

    private sealed class Handler(EventLoop loop) : IEventLoopHandler
    {
        public List<uint> Events { get; } = [];

        public List<int> Commands { get; } = [];

        public bool RanOnLoop { get; private set; }

        public bool Throw { get; init; }

        public void OnEvents(uint events)
        {
            RanOnLoop = loop.IsOnLoop;
            Events.Add(events);
            if (Throw)
            {
                throw new InvalidOperationException("handler failed");
            }
        }

        public void OnCommand(int command) => Commands.Add(command);
    }
}
