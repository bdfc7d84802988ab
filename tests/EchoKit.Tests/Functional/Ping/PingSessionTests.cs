using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;
using EchoKit.Ping;
using EchoKit.Server;
using EchoKit.Tests.Production;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using EchoKit.Testing;

namespace EchoKit.Tests.Ping;

[Trait("Kind", "Functional")]
public sealed class PingSessionTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    // Tests on the real clock wait long for an answer, so a loaded machine does not turn a slow answer into a timeout;
    // tests on the fake clock set the timeout they check.
    private static PingOptions To(int port, PingMode mode = PingMode.Echo) => new()
    {
        Endpoint = new EndpointSpec("127.0.0.1", port, $"127.0.0.1:{port}"),
        Mode = mode,
        Timeout = TestTimeouts.Default,
    };

    [Fact]
    public async Task EchoProbesOfTheInProcessServerAreAllAnsweredOverOneConnection()
    {
        await using var server = await TestServer.StartAsync();
        var observer = new RecordingPingObserver();
        var options = To(server.Port);
        options.Count = 3;
        options.Interval = TimeSpan.FromMilliseconds(10);

        var summary = await new PingSession(options, observer).RunAsync(TestTimeouts.Token());

        Assert.Equal(3, summary.Received);
        Assert.True(summary.AllAnswered);
        Assert.Equal([1L, 2L, 3L], observer.Replies.Select(r => r.Sequence));
        Assert.All(observer.Replies, r => Assert.Equal(PingStatus.Ok, r.Status));
        Assert.All(observer.Replies, r => Assert.Equal(server.EndPoint, r.From));
        var connected = Assert.Single(observer.Events.OfType<PingConnected>());
        Assert.False(connected.Reconnect);
        Assert.Empty(observer.Transitions);
    }

    [Theory]
    [InlineData(PingMode.Echo)]
    [InlineData(PingMode.Connect)]
    public async Task AClosedPortIsRefusedNotTimedOut(PingMode mode)
    {
        using var closed = new ClosedPort();
        var observer = new RecordingPingObserver();
        var options = To(closed.Port, mode);
        options.Count = 2;
        options.Interval = TimeSpan.FromMilliseconds(10);

        var summary = await new PingSession(options, observer).RunAsync(TestTimeouts.Token());

        Assert.All(observer.Replies, r => Assert.Equal(PingStatus.Refused, r.Status));
        Assert.Equal(2, summary.Refused);
        Assert.Equal(0, summary.Received);
        Assert.False(summary.AllAnswered);
        Assert.Equal(new PingTransition(false, 1, "refused", null), Assert.Single(observer.Transitions));
    }

    [Fact]
    public async Task ConnectProbesTimeTheHandshakeOfAnyListener()
    {
        await using var server = await TestServer.StartAsync();
        var options = To(server.Port, PingMode.Connect);
        options.Count = 2;
        options.Interval = TimeSpan.FromMilliseconds(10);

        var summary = await new PingSession(options).RunAsync(TestTimeouts.Token());

        Assert.Equal(2, summary.Received);
        Assert.True(summary.MinMs > 0);
    }

    [Fact]
    public async Task AFinishedEchoPingClosesItsConnectionWithAFinNotAReset()
    {
        var logs = TestServer.Logs();
        var serverOptions = new EchoServerOptions();
        serverOptions.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        await using var server = await TestServer.StartServerAsync(serverOptions, logs);
        var options = To(server.Listeners[0].Port);
        options.Count = 2;
        options.Interval = TimeSpan.FromMilliseconds(10);

        var summary = await new PingSession(options).RunAsync(TestTimeouts.Token());

        Assert.True(summary.AllAnswered);
        // The server logs how the client left: a ping that ended normally must not look like a reset there.
        var closed = await logs.WaitForAsync("ConnectionClosed");
        Assert.Equal(ConnectionCloseReason.ClosedByPeer.ToDisplayString(), closed.Field("Reason"));
        Assert.Empty(logs.Named("ConnectionReset"));
    }

    [Fact]
    public async Task AFinishedEchoPingDoesNotReportItsOwnCloseAsALostConnection()
    {
        // The run's own FIN ends the receive loop's read; that end must not be taken for the server closing. It was a
        // race, lost now and then, so the run is repeated.
        await using var server = await TestServer.StartAsync();
        for (var run = 0; run < 40; run++)
        {
            var observer = new RecordingPingObserver();
            var options = To(server.Port);
            options.Count = 1;

            var summary = await new PingSession(options, observer).RunAsync(TestTimeouts.Token());

            Assert.True(summary.AllAnswered);
            Assert.Empty(observer.Events.OfType<string>()); // OnDisconnected's reasons
        }
    }

    [Fact]
    public async Task EchoProbesWorkOverTlsAndUnixSockets()
    {
        using var certificates = new TestCertificates();
        var path = TestServer.UnixPath();
        var serverOptions = new EchoServerOptions();
        serverOptions.Endpoints.Add(ListenEndpoint.Tls("127.0.0.1:0"));
        serverOptions.Endpoints.Add(ListenEndpoint.Unix(path));
        serverOptions.Tls.Certificate = certificates.Load();
        await using var server = await TestServer.StartServerAsync(serverOptions, TestServer.Logs());

        var tls = To(server.Listeners[0].Port);
        tls.Tls = new EchoKit.Client.ConnectTlsOptions { SkipValidation = true };
        tls.Count = 2;
        tls.Interval = TimeSpan.FromMilliseconds(10);
        var tlsObserver = new RecordingPingObserver();
        var overTls = await new PingSession(tls, tlsObserver).RunAsync(TestTimeouts.Token());

        tls.Mode = PingMode.Connect;
        var tlsHandshakes = await new PingSession(tls).RunAsync(TestTimeouts.Token());

        var unix = new PingOptions { UnixPath = path, Count = 2, Interval = TimeSpan.FromMilliseconds(10), Timeout = TestTimeouts.Default };
        var overUnix = await new PingSession(unix).RunAsync(TestTimeouts.Token());
        unix.Mode = PingMode.Connect;
        var unixConnects = await new PingSession(unix).RunAsync(TestTimeouts.Token());

        Assert.True(overTls.AllAnswered);
        Assert.NotNull(Assert.Single(tlsObserver.Events.OfType<PingConnected>()).TlsTime);
        Assert.True(tlsHandshakes.AllAnswered);
        Assert.True(overUnix.AllAnswered);
        Assert.True(unixConnects.AllAnswered);
    }

    [Fact]
    public async Task ACorruptedEchoIsAMismatchAtItsByteAndTheNextProbeReconnects()
    {
        var time = new FakeTimeProvider();
        await using var server = MisbehavingTcpServer.CorruptingByte(20);
        var observer = new RecordingPingObserver();
        var options = To(server.Port);
        options.Count = 2;

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        await observer.WaitForReplyAsync(1);
        time.Advance(Second);
        var summary = await run;

        Assert.All(observer.Replies, r => Assert.Equal((PingStatus.Mismatch, "mismatch at byte 20"), (r.Status, r.Detail)));
        Assert.Equal(2, summary.Mismatches);
        Assert.False(summary.AllAnswered);
        Assert.Equal(2, observer.Events.OfType<PingConnected>().Count()); // a stream that corrupted a byte is not trusted again
    }

    [Fact]
    public async Task RoundTripsAreTheServersDelaysExactlyAndTheSummaryAddsThemUp()
    {
        // The server echoes probe k after the fake clock moved by a known delay: the round trip must be that delay,
        // and the summary's figures those of the known delays.
        var time = new FakeTimeProvider();
        await using var server = new ControlledEchoServer(32);
        var observer = new RecordingPingObserver();
        var options = To(server.Port);
        options.Count = 5;
        options.Timeout = TimeSpan.FromSeconds(2);
        int[] delays = [10, 30, 20, 50, 40];

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        for (var i = 0; i < delays.Length; i++)
        {
            if (i > 0)
            {
                time.Advance(Second - TimeSpan.FromMilliseconds(delays[i - 1]));
            }
            var (client, frame) = await server.NextAsync();
            time.Advance(TimeSpan.FromMilliseconds(delays[i]));
            await client.SendAsync(frame);
            var reply = await observer.WaitForReplyAsync(i + 1);
            Assert.Equal(TimeSpan.FromMilliseconds(delays[i]), reply.RoundTrip);
        }
        var summary = await run;

        Assert.Equal(5, summary.Received);
        Assert.Equal(10, summary.MinMs!.Value, 9);
        Assert.Equal(30, summary.AvgMs!.Value, 9);
        Assert.Equal(50, summary.MaxMs!.Value, 9);
        Assert.Equal(Math.Sqrt(200), summary.MdevMs!.Value, 9);
        Assert.Equal((20 + 10 + 30 + 10) / 4.0, summary.JitterMs!.Value, 9);
        Assert.InRange(summary.P50Ms!.Value, 30, 30.03);
        Assert.InRange(summary.P90Ms!.Value, 50, 50.05);
        Assert.Equal(TimeSpan.FromSeconds(5), summary.Up);
    }

    [Fact]
    public async Task AServerThatStopsAnsweringAndComesBackGivesOneOutageOfKnownLength()
    {
        var time = new FakeTimeProvider();
        await using var server = new ControlledEchoServer(32);
        var observer = new RecordingPingObserver();
        var options = To(server.Port);
        options.Count = 8;
        options.Timeout = TimeSpan.FromMilliseconds(500);
        var elapsed = TimeSpan.Zero;
        void AdvanceTo(TimeSpan t)
        {
            time.Advance(t - elapsed);
            elapsed = t;
        }

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        for (var seq = 1; seq <= 8; seq++)
        {
            AdvanceTo(Second * (seq - 1));
            var (client, frame) = await server.NextAsync();
            if (seq is >= 3 and <= 6)
            {
                AdvanceTo(Second * (seq - 1) + options.Timeout); // gone: the probe times out on its own timer
            }
            else
            {
                await client.SendAsync(frame);
            }
            await observer.WaitForReplyAsync(seq);
        }
        var summary = await run;

        Assert.Equal(
            [new PingTransition(false, 3, "timeout", null), new PingTransition(true, 7, null, TimeSpan.FromSeconds(4))],
            observer.Transitions);
        Assert.Equal((8L, 4L, 4L), (summary.Sent, summary.Received, summary.Timeouts));
        Assert.Equal(TimeSpan.FromSeconds(4), summary.LongestOutage);
        Assert.Equal(TimeSpan.FromSeconds(4), summary.Down);
        Assert.Equal(1, summary.Outages);
        // Nothing came back on the old connection, so a new one was opened for the probes after the first timeout.
        Assert.Contains(observer.Events.OfType<PingConnected>(), c => c.Reconnect);
    }

    [Fact]
    public async Task AnUnansweredProbeTimesOutOnItsOwnTimerEvenPastTheNextTick()
    {
        var time = new FakeTimeProvider();
        await using var server = new ControlledEchoServer(32);
        var observer = new RecordingPingObserver();
        var options = To(server.Port);
        options.Count = 3;
        options.Interval = Second;
        options.Timeout = TimeSpan.FromMilliseconds(2500);

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        var first = await server.NextAsync();            // t=0: probe 1, held
        time.Advance(Second);
        var second = await server.NextAsync();           // t=1: probe 2 is sent on time though 1 is unanswered
        time.Advance(Second);
        var third = await server.NextAsync();            // t=2
        Assert.Equal([0, 1, 2], new[] { first, second, third }.Select(p => (int)p.Frame[15] - 1));
        Assert.Empty(observer.Replies);
        time.Advance(TimeSpan.FromMilliseconds(500));    // t=2.5: probe 1's timeout, not before
        Assert.Equal(PingStatus.Timeout, (await observer.WaitForReplyAsync(1)).Status);
        await third.Client.SendAsync(first.Frame);        // the late echo of 1 ...
        await third.Client.SendAsync(second.Frame);       // ... then 2 and 3, in time
        await third.Client.SendAsync(third.Frame);
        var summary = await run;

        Assert.Equal([PingStatus.Timeout, PingStatus.Ok, PingStatus.Ok], observer.Replies.Select(r => r.Status));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), observer.Replies[1].RoundTrip);
        Assert.Equal(TimeSpan.FromMilliseconds(500), observer.Replies[2].RoundTrip);
        Assert.Equal(1, summary.Late);
        Assert.Equal(PingStrayKind.Late, Assert.Single(observer.Strays).Kind);
    }

    [Fact]
    public async Task UdpRepliesThatAreDuplicatedDelayedOrReorderedAreCountedApart()
    {
        // The test is the UDP server: it receives each probe and answers when and how often it chooses.
        var time = new FakeTimeProvider();
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var observer = new RecordingPingObserver();
        var options = To(port, PingMode.Udp);
        options.Count = 4;
        options.Timeout = TimeSpan.FromMilliseconds(1500);
        async Task<(byte[] Data, EndPoint From)> ReceiveAsync()
        {
            var buffer = new byte[100];
            var result = await server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeouts.Token());
            return (buffer[..result.ReceivedBytes], result.RemoteEndPoint);
        }

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        var (one, client) = await ReceiveAsync();           // t=0
        await server.SendToAsync(one, client);
        await server.SendToAsync(one, client);              // a duplicate
        await observer.WaitForAsync<PingStray>(s => s.Kind == PingStrayKind.Duplicate, "the duplicate");
        time.Advance(Second);
        var (two, _) = await ReceiveAsync();                // t=1: held past its timeout
        time.Advance(Second);
        var (three, _) = await ReceiveAsync();              // t=2: held, answered after 4's
        time.Advance(TimeSpan.FromMilliseconds(500));       // t=2.5: probe 2 times out
        await observer.WaitForReplyAsync(2);
        time.Advance(TimeSpan.FromMilliseconds(500));
        var (four, _) = await ReceiveAsync();               // t=3
        await server.SendToAsync(two, client);              // late
        await server.SendToAsync(four, client);
        await server.SendToAsync(three, client);            // reordered, still in time
        var summary = await run;

        Assert.Equal([PingStatus.Ok, PingStatus.Timeout, PingStatus.Ok, PingStatus.Ok], observer.Replies.Select(r => r.Status));
        Assert.Equal(TimeSpan.FromSeconds(1), observer.Replies[2].RoundTrip);
        Assert.Equal((4L, 3L, 1L, 1L, 1L, 1L), (summary.Sent, summary.Received, summary.Timeouts, summary.Duplicates, summary.Late, summary.Reordered));
        Assert.Equal(25, summary.LossPercent);
        Assert.Equal(
            [new PingTransition(false, 2, "timeout", null), new PingTransition(true, 3, null, Second)],
            observer.Transitions);
    }

    [Fact]
    public async Task ADuplicateReplyIsReportedAfterItsProbesLineWhileAnEarlierProbeHoldsThatLineBack()
    {
        // The test is the UDP server: probe 2 is answered twice while probe 1 still waits, so probe 2's line waits for
        // probe 1's (lines come in sequence order) and its duplicate must wait with it, not come out first.
        var time = new FakeTimeProvider();
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var observer = new RecordingPingObserver();
        var options = To(((IPEndPoint)server.LocalEndPoint!).Port, PingMode.Udp);
        options.Count = 2;
        options.Timeout = TimeSpan.FromSeconds(5); // on the fake clock: never reached
        async Task<(byte[] Data, EndPoint From)> ReceiveAsync()
        {
            var buffer = new byte[100];
            var result = await server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), TestTimeouts.Token());
            return (buffer[..result.ReceivedBytes], result.RemoteEndPoint);
        }

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        var (one, client) = await ReceiveAsync();           // t=0: probe 1, held
        time.Advance(Second);
        var (two, _) = await ReceiveAsync();                // t=1
        await server.SendToAsync(two, client);
        await server.SendToAsync(two, client);              // a duplicate of 2 before 1 is answered
        await server.SendToAsync(one, client);              // 1 at last: in time, after a later probe's answer
        var summary = await run;

        Assert.Equal(["seq=1 Ok", "seq=1 Reordered", "seq=2 Ok", "seq=2 Duplicate"], Lines(observer));
        Assert.Equal((2L, 1L, 1L), (summary.Received, summary.Duplicates, summary.Reordered));
    }

    [Fact]
    public async Task EachDuplicateOfADuplicatingServerIsReportedAfterItsProbesOwnLine()
    {
        var time = new FakeTimeProvider();
        await using var server = MisbehavingUdpServer.Duplicating(every: 2);
        var observer = new RecordingPingObserver();
        var options = To(server.Port, PingMode.Udp);
        options.Count = 5;

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        for (var sequence = 1; sequence < 5; sequence++)
        {
            await observer.WaitForReplyAsync(sequence);
            if (sequence % 2 == 0)
            {
                await observer.WaitForAsync<PingStray>(s => s.Sequence == sequence, $"the duplicate of seq={sequence}");
            }
            time.Advance(Second);
        }
        var summary = await run;

        Assert.Equal(["seq=1 Ok", "seq=2 Ok", "seq=2 Duplicate", "seq=3 Ok", "seq=4 Ok", "seq=4 Duplicate", "seq=5 Ok"], Lines(observer));
        Assert.Equal(2, summary.Duplicates);
    }

    /// <summary>The per-probe and stray lines in the order the observer got them.</summary>
    private static string[] Lines(RecordingPingObserver observer) => observer.Events
        .Select(e => e switch
        {
            PingReply reply => $"seq={reply.Sequence} {reply.Status}",
            PingStray stray => $"seq={stray.Sequence} {stray.Kind}",
            _ => null,
        })
        .OfType<string>()
        .ToArray();

    [Fact]
    public async Task UdpProbesOfTheInProcessServerAreAllAnswered()
    {
        var serverOptions = new EchoServerOptions();
        serverOptions.Endpoints.Add(ListenEndpoint.Udp("127.0.0.1:0"));
        await using var server = await TestServer.StartServerAsync(serverOptions, TestServer.Logs());
        var options = To(server.Listeners[0].Port, PingMode.Udp);
        options.Count = 3;
        options.Size = 100;
        options.Interval = TimeSpan.FromMilliseconds(10);

        var summary = await new PingSession(options).RunAsync(TestTimeouts.Token());

        Assert.True(summary.AllAnswered);
        Assert.Equal((0L, 0L), (summary.Duplicates, summary.Late));
    }

    [Fact]
    public async Task AtOneMillisecondIntervalsALateTimerSendsEveryProbeDueSoTheCountKeepsToTheSchedule()
    {
        // A timer that wakes 5 ms late (the real one wakes ~1 ms late, which at -i 1ms halved the rate): the probes due
        // meanwhile go out at once, not one per wake-up, and none goes out before its time.
        var time = new FakeTimeProvider();
        await using var server = await UdpEchoServerAsync();
        var observer = new RecordingPingObserver();
        var options = To(server.Listeners[0].Port, PingMode.Udp);
        options.Interval = TimeSpan.FromMilliseconds(1);
        options.Count = 21;

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        await observer.WaitForReplyAsync(1);
        for (var step = 1; step <= 4; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            await observer.WaitForReplyAsync(1 + 5 * step);
            Assert.Equal(1 + 5 * step, observer.Replies.Count);
        }
        var summary = await run;

        Assert.Equal((21L, 21L), (summary.Sent, summary.Received));
        Assert.Equal(TimeSpan.FromMilliseconds(21), summary.Up);
    }

    [Fact]
    public async Task AfterFallingFarBehindTheScheduleRestartsAndTheLostTimeCountsInUpAndDown()
    {
        var time = new FakeTimeProvider();
        await using var server = await UdpEchoServerAsync();
        var observer = new RecordingPingObserver();
        var options = To(server.Listeners[0].Port, PingMode.Udp);
        options.Interval = Second;
        options.Count = 4;

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        await observer.WaitForReplyAsync(1);
        time.Advance(Second);
        await observer.WaitForReplyAsync(2);
        time.Advance(Second * 10);                  // a suspended process: probe 3 is 9 s late
        await observer.WaitForReplyAsync(3);
        Assert.Equal(3, observer.Replies.Count);    // the missed probes are not fired at once
        time.Advance(Second);                       // the schedule restarted at probe 3
        var summary = await run;

        Assert.Equal(4, summary.Sent);
        Assert.Equal(TimeSpan.FromSeconds(13), summary.Up); // the time the run took, not 4 intervals
    }

    private static async Task<EchoServer> UdpEchoServerAsync()
    {
        var serverOptions = new EchoServerOptions();
        serverOptions.Endpoints.Add(ListenEndpoint.Udp("127.0.0.1:0"));
        return await TestServer.StartServerAsync(serverOptions, TestServer.Logs());
    }

    [Fact]
    public async Task AUdpPortWithNoServerIsRefused()
    {
        using var closed = ClosedPort.Udp();
        var options = To(closed.Port, PingMode.Udp);
        options.Count = 1;

        var summary = await new PingSession(options).RunAsync(TestTimeouts.Token());

        Assert.Equal(1, summary.Refused);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveStopsBeforeTheFirstProbe()
    {
        var options = new PingOptions { Endpoint = EndpointParser.Parse("no-such-host.invalid:7"), Count = 1 };

        var ex = await Assert.ThrowsAsync<PingTargetException>(() => new PingSession(options).RunAsync(TestTimeouts.Token()));

        Assert.Contains("no-such-host.invalid", ex.Message);
    }

    [Fact]
    public async Task CancellingBeforeTheFirstProbeReturnsAnEmptySummary()
    {
        var options = new PingOptions { Endpoint = EndpointParser.Parse("localhost:7") };

        var summary = await new PingSession(options).RunAsync(new CancellationToken(canceled: true));

        Assert.Equal(0, summary.Sent);
        Assert.False(summary.AllAnswered);
    }

    [Fact]
    public async Task TheDeadlineEndsAnEndlessRun()
    {
        var time = new FakeTimeProvider();
        await using var server = new ControlledEchoServer(32);
        var options = To(server.Port);
        options.Deadline = TimeSpan.FromMilliseconds(2500);

        var observer = new RecordingPingObserver();

        var run = new PingSession(options, observer, time).RunAsync(TestTimeouts.Token());
        for (var seq = 1; seq <= 3; seq++)
        {
            var (client, frame) = await server.NextAsync();
            await client.SendAsync(frame);
            await observer.WaitForReplyAsync(seq);
            time.Advance(Second);
        }
        var summary = await run;

        Assert.Equal((3L, 3L), (summary.Sent, summary.Received));
    }
}
