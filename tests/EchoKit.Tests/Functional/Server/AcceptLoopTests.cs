using System.Net;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Functional")]
public sealed class AcceptLoopTests
{
    [Fact]
    public async Task ALoopWhoseListenerWasClosedBeforeItsTokenEndsQuietly()
    {
        // A caller that closes the listener first and cancels second (the metrics endpoint once did, and a CI run
        // caught the ObjectDisposedException): the loop ends, it does not fault or spin.
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        listener.Dispose();
        var failures = 0;

        await AcceptLoop.RunAsync(listener, client => client.Dispose(), (_, _) => failures++, TimeProvider.System, CancellationToken.None)
            .WaitAsync(TestTimeouts.Default);

        Assert.Equal(0, failures);
    }
}
