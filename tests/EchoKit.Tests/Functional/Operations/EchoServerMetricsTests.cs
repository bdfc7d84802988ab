using System.Diagnostics.Metrics;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Server.Internal;
using EchoKit.Tests.Support;
using Microsoft.Extensions.Logging;

namespace EchoKit.Tests.Operations;

/// <summary>The library's instruments, read with a plain MeterListener: per listener, and cheap on the hot path.</summary>
/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class EchoServerMetricsTests(ServerEngine engine)
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private EchoServerOptions WithEngine(EchoServerOptions options)
    {
        options.Engine = Engine;
        return options;
    }

    [Fact]
    public async Task EachListenerReportsItsOwnConnectionsAndBytes()
    {
        using var recorder = new MeasurementRecorder();
        var closed = new ClosedConnections();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        options.Endpoints.Add(ListenEndpoint.Tcp("127.0.0.1:0"));
        await using var server = new EchoServer(WithEngine(options), closed);
        await server.StartAsync(CancellationToken.None);
        var a = new Uri(server.Listeners[0].Uri);
        var b = new Uri(server.Listeners[1].Uri);

        await MetricsEndpointTests.EchoAsync(a, new byte[1000]);
        await MetricsEndpointTests.EchoAsync(a, new byte[24]);
        await MetricsEndpointTests.EchoAsync(b, new byte[7]);
        await closed.WaitForAsync(3);
        recorder.Collect();

        Assert.Equal(2, recorder.Sum(EchoServerMetrics.ConnectionsAccepted, a));
        Assert.Equal(1, recorder.Sum(EchoServerMetrics.ConnectionsAccepted, b));
        Assert.Equal(1024, recorder.Last(EchoServerMetrics.BytesReceived, a));
        Assert.Equal(1024, recorder.Last(EchoServerMetrics.BytesSent, a));
        Assert.Equal(7, recorder.Last(EchoServerMetrics.BytesReceived, b));
        Assert.Equal(0, recorder.Last(EchoServerMetrics.ConnectionsActive, a));
        Assert.Equal(2, recorder.Count(EchoServerMetrics.ConnectionDuration, a));
        Assert.True(server.IsReady);
    }

    [Fact]
    public async Task UdpListenerReportsAnsweredAndDroppedDatagrams()
    {
        using var recorder = new MeasurementRecorder();
        using var denied = new EchoKit.Tests.Udp.UdpTestClient();
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Udp("127.0.0.1:0"));
        options.Udp.ReceiveLoops = 1; // one loop keeps arrival order: the denied datagram is handled before the rest
        options.Udp.DenySourcePorts.Add(denied.LocalEndPoint.Port);
        await using var server = new EchoServer(options); // UDP only: no stream engine involved
        await server.StartAsync(CancellationToken.None);
        var uri = new Uri(server.Listeners[0].Uri);
        using var client = new EchoKit.Tests.Udp.UdpTestClient();
        var target = (System.Net.IPEndPoint)server.Listeners[0].EndPoint;

        await denied.SendAsync(new byte[5], target);
        for (var i = 0; i < 3; i++)
        {
            await client.ExchangeAsync(new byte[10], target);
        }
        recorder.Collect();

        Assert.Equal(3, recorder.Last(EchoServerMetrics.DatagramsAnswered, uri));
        Assert.Equal(30, recorder.Last(EchoServerMetrics.BytesSent, uri));
        Assert.Equal(1, recorder.Sum(EchoServerMetrics.DatagramsDropped, uri, EchoServerMetrics.DropDenied));
    }

    [Fact]
    public async Task ServerIsReadyOnlyBetweenStartAndStop()
    {
        await using var server = new EchoServer(new EchoServerOptions { Engine = Engine, Endpoints = { ListenEndpoint.Tcp("127.0.0.1:0") } });
        Assert.False(server.IsReady);

        await server.StartAsync(CancellationToken.None);
        Assert.True(server.IsReady);

        // While a connection drains, the server is already unready.
        using var client = new TcpClient();
        await client.ConnectAsync(new Uri(server.Listeners[0].Uri).Host, server.Listeners[0].Port);
        using var stopNow = new CancellationTokenSource();
        var stopping = server.StopAsync(stopNow.Token);
        Assert.False(server.IsReady);
        await stopNow.CancelAsync();
        await stopping.WaitAsync(Support.TestTimeouts.Default);
        Assert.False(server.IsReady);
    }

    [Fact]
    public void RejectionsDropsAndHandshakeFailuresCarryListenerAndReason()
    {
        // The hooks other listeners (limits, ACL, TLS, UDP) call: one line each, tags fixed here.
        using var recorder = new MeasurementRecorder();
        using var instruments = new ServerInstruments();
        var listener = instruments.ForListener("udp://127.0.0.1:9");

        listener.ConnectionRejected(EchoServerMetrics.RejectMaxConnections);
        listener.DatagramDropped(EchoServerMetrics.DropDenied);
        listener.DatagramDropped(EchoServerMetrics.DropDenied);
        listener.TlsHandshakeFailed("timeout");
        listener.DatagramAnswered();
        recorder.Collect();

        var uri = new Uri("udp://127.0.0.1:9");
        Assert.Equal(1, recorder.Sum(EchoServerMetrics.ConnectionsRejected, uri, "max_connections"));
        Assert.Equal(2, recorder.Sum(EchoServerMetrics.DatagramsDropped, uri, "denied"));
        Assert.Equal(1, recorder.Sum(EchoServerMetrics.TlsHandshakeFailures, uri, "timeout"));
        Assert.Equal(1, recorder.Last(EchoServerMetrics.DatagramsAnswered, uri));
    }

    [Fact]
    public void HotPathCountersAllocateNothing()
    {
        // A listener that only sums, so what is measured is the instruments' own cost with a listener attached.
        double sum = 0;
        using var listening = new MeterListener();
        listening.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EchoServerMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listening.SetMeasurementEventCallback<long>((_, v, _, _) => sum += v);
        listening.SetMeasurementEventCallback<double>((_, v, _, _) => sum += v);
        listening.Start();
        using var instruments = new ServerInstruments();
        var listener = instruments.ForListener("tcp://127.0.0.1:1");
        listener.AddReceived(1);
        listener.AddSent(1);
        listener.ConnectionOpened();
        listener.ConnectionClosed(ConnectionCloseReason.ClosedByPeer, TimeSpan.FromSeconds(1));

        AllocationAssert.NothingPerCall(10_000, _ =>
        {
            listener.AddReceived(100);
            listener.AddSent(100);
            listener.ConnectionOpened();
            listener.ConnectionClosed(ConnectionCloseReason.ClosedByPeer, TimeSpan.FromMilliseconds(5));
        });
        Assert.True(sum > 0);
    }

    /// <summary>A logger factory that lets a test await N ConnectionClosed events (logged after the metrics).</summary>
    private sealed class ClosedConnections : ILoggerFactory, ILogger
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
        private int _closed;

        public Task WaitForAsync(int count)
        {
            lock (_lock)
            {
                if (_closed >= count)
                {
                    return Task.CompletedTask;
                }
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, done));
                return done.Task.WaitAsync(Support.TestTimeouts.Default);
            }
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name != "ConnectionClosed")
            {
                return;
            }
            lock (_lock)
            {
                _closed++;
                foreach (var (count, done) in _waiters.Where(w => w.Count <= _closed))
                {
                    done.TrySetResult();
                }
            }
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
            // Nothing held.
        }
    }
}
