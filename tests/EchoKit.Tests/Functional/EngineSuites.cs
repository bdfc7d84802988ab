using EchoKit.Server;
using EchoKit.Tests.Operations;
using EchoKit.Tests.Production;

// The engine selector (as Kestrel compiles its functional tests once per transport): every suite that describes how
// the server behaves is written once, as an abstract class taking the engine, and runs here once per engine. Both
// engines must pass the same tests; only their speed and memory may differ. Kept in one file on purpose: the list is
// the point.
namespace EchoKit.Tests.Server
{
    [Trait("Kind", "Functional")]
    public sealed class TcpEchoTestsOnSockets() : TcpEchoTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class TcpEchoTestsOnEpoll() : TcpEchoTests(ServerEngine.Epoll);

    /// <summary>The epoll engine splicing bulk reads for loopback clients too (it splices only for other machines').</summary>
    [Trait("Kind", "Functional")]
    public sealed class TcpEchoTestsOnEpollSplicing() : TcpEchoTests(ServerEngine.Epoll)
    {
        protected override bool SpliceOnHostClients => true;
    }

    [Trait("Kind", "Functional")]
    public sealed class ServerLifecycleTestsOnSockets() : ServerLifecycleTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class ServerLifecycleTestsOnEpoll() : ServerLifecycleTests(ServerEngine.Epoll);

    [Trait("Kind", "Functional")]
    public sealed class BlockedOutputTestsOnSockets() : BlockedOutputTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class BlockedOutputTestsOnEpoll() : BlockedOutputTests(ServerEngine.Epoll);
}

namespace EchoKit.Tests.Production
{
    [Trait("Kind", "Functional")]
    public sealed class ConnectionLimitTestsOnSockets() : ConnectionLimitTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class ConnectionLimitTestsOnEpoll() : ConnectionLimitTests(ServerEngine.Epoll);

    [Trait("Kind", "Functional")]
    public sealed class AccessControlServerTestsOnSockets() : AccessControlServerTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class AccessControlServerTestsOnEpoll() : AccessControlServerTests(ServerEngine.Epoll);

    [Trait("Kind", "Functional")]
    public sealed class IdleTimeoutTestsOnSockets() : IdleTimeoutTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class IdleTimeoutTestsOnEpoll() : IdleTimeoutTests(ServerEngine.Epoll);

    [Trait("Kind", "Functional")]
    public sealed class ProxyProtocolServerTestsOnSockets() : ProxyProtocolServerTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class ProxyProtocolServerTestsOnEpoll() : ProxyProtocolServerTests(ServerEngine.Epoll);

    [Trait("Kind", "Functional")]
    public sealed class UnixSocketTestsOnSockets() : UnixSocketTests(ServerEngine.Sockets);

    [Trait("Kind", "Functional")]
    public sealed class UnixSocketTestsOnEpoll() : UnixSocketTests(ServerEngine.Epoll);
}

namespace EchoKit.Tests.Operations
{
    // One collection: the suite listens to every meter in the process (and counts this thread's allocations), so its
    // two engines must not run side by side and hear each other.
    [Collection(nameof(EchoServerMetricsTests))]
    [Trait("Kind", "Functional")]
    public sealed class EchoServerMetricsTestsOnSockets() : EchoServerMetricsTests(ServerEngine.Sockets);

    [Collection(nameof(EchoServerMetricsTests))]
    [Trait("Kind", "Functional")]
    public sealed class EchoServerMetricsTestsOnEpoll() : EchoServerMetricsTests(ServerEngine.Epoll);
}

namespace EchoKit.Tests.Faults
{
    // The fault suites count the process's descriptors: one collection that runs alone.
    [Collection(nameof(FaultsCollection))]
    [Trait("Kind", "Functional")]
    public sealed class BrokenPeerTestsOnSockets() : BrokenPeerTests(ServerEngine.Sockets);

    [Collection(nameof(FaultsCollection))]
    [Trait("Kind", "Functional")]
    public sealed class BrokenPeerTestsOnEpoll() : BrokenPeerTests(ServerEngine.Epoll);

    [Collection(nameof(FaultsCollection))]
    [Trait("Kind", "Functional")]
    public sealed class SlowlorisTestsOnSockets() : SlowlorisTests(ServerEngine.Sockets);

    [Collection(nameof(FaultsCollection))]
    [Trait("Kind", "Functional")]
    public sealed class SlowlorisTestsOnEpoll() : SlowlorisTests(ServerEngine.Epoll);
}
