using System.Text;
using System.Text.Json;
using EchoKit.Cli.Observability;
using EchoKit.Cli.Output;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Cli;

/// <summary>
/// The output sink against a stdout nobody reads (<see cref="GatedWriter"/>): serve's dropping sink never makes a
/// writer of a line wait, holds no more than its bounds, says what it dropped, and loses nothing it queued.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class OutputSinkTests
{
    private const string Notice = "log line(s) dropped: the output was not read fast enough";

    private static OutputSink Dropping(TextWriter stdout, int maxLines = OutputSinkOptions.DefaultMaxLines, long maxBytes = OutputSinkOptions.DefaultMaxBytes) =>
        new(new OutputSinkOptions
        {
            MaxLines = maxLines,
            MaxBytes = maxBytes,
            DroppedNotice = count => LineLoggerFactory.DroppedLinesNotice(LogFormat.Text, count),
        }, stdout, stdout);

    [Fact]
    public async Task FullSinkDropsAndCountsLinesWithoutMakingTheirWritersWait()
    {
        using var stdout = new GatedWriter();
        using var sink = Dropping(stdout, maxLines: 4);
        sink.WriteLine("line 0");
        await stdout.Held.WaitAsync(TestTimeouts.Default); // the writer thread is stuck writing line 0

        await Task.Run(() =>
        {
            for (var i = 1; i <= 10; i++)
            {
                sink.WriteLine($"line {i}");
            }
        }).WaitAsync(TestTimeouts.Default);

        // Every write returned while stdout was still blocked: nothing has reached it yet.
        Assert.Empty(stdout.Lines);
        // Held: line 0 (being written) and lines 1 to 3.
        Assert.Equal(7, sink.DroppedLines);
        stdout.Open(); // or the sink's Dispose would wait out the gate's timeout
    }

    [Fact]
    public async Task DroppedLinesAreReportedOnceWhereTheyWereWhenTheReaderCatchesUp()
    {
        using var stdout = new GatedWriter();
        using var sink = Dropping(stdout, maxLines: 4);
        sink.WriteLine("line 0");
        await stdout.Held.WaitAsync(TestTimeouts.Default);
        for (var i = 1; i <= 10; i++)
        {
            sink.WriteLine($"line {i}");
        }

        stdout.Open();
        await TestTimeouts.WaitUntilAsync(() => stdout.Lines.Any(l => l.Contains(Notice, StringComparison.Ordinal)), "the dropped-lines notice");
        sink.WriteLine("after");
        sink.Dispose();

        var lines = stdout.Lines;
        Assert.Equal(["line 0", "line 1", "line 2", "line 3"], lines.Take(4));
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{3} warning: 7 log line\(s\) dropped: the output was not read fast enough$", lines[4]);
        Assert.Equal("after", lines[5]);
        Assert.Equal(6, lines.Count);
        Assert.Equal(7, sink.DroppedLines);
    }

    [Fact]
    public async Task ByteBoundCountsEveryLineHeldTheOneBeingWrittenIncluded()
    {
        using var stdout = new GatedWriter();
        using var sink = Dropping(stdout, maxBytes: 100); // 50 characters
        var twenty = new string('a', 20);                  // 40 bytes each
        sink.WriteLine(twenty);
        await stdout.Held.WaitAsync(TestTimeouts.Default);

        sink.WriteLine(twenty);             // 80 bytes held
        sink.WriteLine(twenty);             // 120: dropped
        sink.WriteLine(new string('b', 10)); // 100: fits exactly
        sink.WriteLine("c");                // 102: dropped

        Assert.Equal(2, sink.DroppedLines);
        stdout.Open();
        sink.Dispose();
        Assert.Equal([twenty, twenty], stdout.Lines.Take(2));
        Assert.Contains("warning: 1 " + Notice, stdout.Lines[2]);
        Assert.Equal(new string('b', 10), stdout.Lines[3]);
        Assert.Contains("warning: 1 " + Notice, stdout.Lines[4]);
        Assert.Equal(5, stdout.Lines.Count);
    }

    [Fact]
    public async Task LineLongerThanTheByteBoundIsWrittenWhenNothingElseIsHeld()
    {
        using var stdout = new GatedWriter();
        using var sink = Dropping(stdout, maxBytes: 100);
        var dump = new string('x', 1000); // 2000 bytes, as one --dump hex line of a large read can be
        sink.WriteLine(dump);
        await stdout.Held.WaitAsync(TestTimeouts.Default);

        sink.WriteLine("y"); // behind a line over the bound: dropped

        Assert.Equal(1, sink.DroppedLines);
        stdout.Open();
        sink.Dispose();
        Assert.Equal(dump, stdout.Lines[0]);
        Assert.Equal(2, stdout.Lines.Count);
    }

    [Fact]
    public async Task DisposeWritesEverythingQueuedOnceTheReaderCatchesUpAndIsHarmlessTwice()
    {
        using var stdout = new GatedWriter();
        var sink = Dropping(stdout, maxLines: 3);
        sink.WriteLine("first");
        await stdout.Held.WaitAsync(TestTimeouts.Default);
        sink.WriteLine("second");
        sink.WriteError("third (stderr)");
        sink.WriteLine("dropped");

        var disposing = Task.Run(sink.Dispose);
        stdout.Open();
        await disposing.WaitAsync(TestTimeouts.Default);
        sink.Dispose();
        sink.WriteLine("after dispose"); // the program is exiting: ignored, not thrown

        Assert.Equal(["first", "second", "third (stderr)"], stdout.Lines.Take(3));
        Assert.Contains("warning: 1 " + Notice, stdout.Lines[3]);
        Assert.Equal(4, stdout.Lines.Count);
    }

    [Fact]
    public async Task LosslessSinkMakesItsWriterWaitForRoomAndLosesNothing()
    {
        using var stdout = new GatedWriter();
        using var sink = new OutputSink(new OutputSinkOptions { MaxLines = 2 }, stdout, stdout);
        sink.WriteLine("line 0");
        await stdout.Held.WaitAsync(TestTimeouts.Default);
        sink.WriteLine("line 1");

        var producer = new Thread(() => sink.WriteLine("line 2")) { IsBackground = true };
        producer.Start();
        await TestTimeouts.WaitUntilAsync(() => (producer.ThreadState & ThreadState.WaitSleepJoin) != 0, "the producer to wait for room");
        Assert.True(producer.IsAlive);

        stdout.Open();
        Assert.True(producer.Join(TestTimeouts.Default));
        sink.Dispose();
        Assert.Equal(["line 0", "line 1", "line 2"], stdout.Lines);
        Assert.Equal(0, sink.DroppedLines);
    }

    [Fact]
    public async Task DroppedLinesAreExportedBesideTheServersCounters()
    {
        using var stdout = new GatedWriter();
        using var sink = Dropping(stdout, maxLines: 1);
        sink.WriteLine("held");
        await stdout.Held.WaitAsync(TestTimeouts.Default);
        sink.WriteLine("dropped");
        sink.WriteLine("dropped");
        using var metrics = new OutputMetrics(sink);
        using var exporter = new PrometheusExporter(new Dictionary<string, string> { [OutputMetrics.MeterName] = MetricsHost.ExportedMeters[OutputMetrics.MeterName] });

        using var buffer = new MemoryStream();
        await exporter.WriteAsync(buffer, CancellationToken.None);
        var text = Encoding.UTF8.GetString(buffer.ToArray());

        Assert.Contains("# TYPE echokit_server_log_lines_dropped_total counter", text);
        Assert.Contains("\nechokit_server_log_lines_dropped_total 2\n", "\n" + text);
        stdout.Open();
    }

    [Fact]
    public void DroppedLinesNoticeInJsonIsAWarningEventWithTheCount()
    {
        using var json = JsonDocument.Parse(LineLoggerFactory.DroppedLinesNotice(LogFormat.Json, 7));
        var root = json.RootElement;
        Assert.Equal("warning", root.GetProperty("level").GetString());
        Assert.Equal("LogLinesDropped", root.GetProperty("event").GetString());
        Assert.Equal("7 " + Notice, root.GetProperty("message").GetString());
        Assert.Equal(7, root.GetProperty("dropped_lines").GetInt64());
        Assert.True(root.TryGetProperty("time", out _));
    }
}
