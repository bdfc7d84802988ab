using EchoKit.Internal;

namespace EchoKit.Tests.Server;

[Trait("Kind", "Unit")]
public sealed class AcceptBackoffTests
{
    [Fact]
    public void FailedAcceptsWaitLongerUpToOneSecondAndASuccessStartsOver()
    {
        var backoff = new AcceptBackoff();

        var waits = Enumerable.Range(0, 10).Select(_ => (int)backoff.Next().TotalMilliseconds).ToArray();
        backoff.Reset();

        Assert.Equal([10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000], waits);
        Assert.Equal(TimeSpan.FromMilliseconds(10), backoff.Next());
    }
}
