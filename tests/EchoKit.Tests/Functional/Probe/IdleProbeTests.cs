using System.Net;
using EchoKit.Endpoints;
using EchoKit.Probe;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace EchoKit.Tests.Probe;

[Trait("Kind", "Functional")]
public sealed class IdleProbeTests
{
    [Fact]
    public async Task IdleProbeEndsAtOnceWhenTheServerRefusesAHoldOverItsLimit()
    {
        // The server holds at most 1 s; the probe asks for up to 10 s. The refusal of the 2 s hold must end the run,
        // not wait for tcp-outbound, whose idle periods run on a clock that never moves here.
        await using var server = await TestServer.StartAsync(options =>
        {
            options.Reflect.TcpEndpoints.Add(EndpointParser.Parse("127.0.0.1:0"));
            options.Reflect.MaxHold = TimeSpan.FromSeconds(1);
        }, time: new FakeTimeProvider());
        var tcp = (IPEndPoint)server.Server.Listeners.Single(l => l.Uri.StartsWith("reflect+tcp://", StringComparison.Ordinal)).EndPoint;
        var options = new IdleProbeOptions { Max = TimeSpan.FromSeconds(10), Udp = false, Time = new FakeTimeProvider() };
        using var stop = new CancellationTokenSource();

        var run = IdleProbe.RunAsync(EndpointParser.Parse($"127.0.0.1:{tcp.Port}"), options, null, stop.Token);
        try
        {
            var refused = await Assert.ThrowsAsync<ProbeException>(() => run.WaitAsync(TestTimeouts.Default));
            Assert.Contains("after_ms over this server's limit of 1000", refused.Message);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAny(run, Task.Delay(TestTimeouts.Default));
        }
    }
}
