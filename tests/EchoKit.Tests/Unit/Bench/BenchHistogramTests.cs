using EchoKit.Bench;
using EchoKit.Bench.Internal;
using HdrHistogram;

namespace EchoKit.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class BenchHistogramTests
{
    private static LongHistogram Sample(int seed, int count)
    {
        var random = new Random(seed);
        var histogram = LatencyHistograms.Create();
        for (var i = 0; i < count; i++)
        {
            // Mostly tens of µs, a tail into seconds: every bucket range of a real run.
            histogram.RecordValue(random.Next(100) < 98 ? random.Next(1, 200) : random.NextInt64(200, 5_000_000));
        }
        histogram.RecordValue(0);
        histogram.RecordValue(LatencyHistograms.HighestMicroseconds);
        return histogram;
    }

    private static void AssertSameCounts(HistogramBase expected, HistogramBase actual)
    {
        Assert.Equal(expected.TotalCount, actual.TotalCount);
        var a = expected.RecordedValues().Select(v => (v.ValueIteratedTo, v.CountAtValueIteratedTo)).ToList();
        var b = actual.RecordedValues().Select(v => (v.ValueIteratedTo, v.CountAtValueIteratedTo)).ToList();
        Assert.Equal(a, b);
        foreach (var p in new[] { 0.0, 50, 90, 99, 99.9, 99.99, 100 })
        {
            Assert.Equal(expected.GetValueAtPercentile(p), actual.GetValueAtPercentile(p));
        }
    }

    private static BenchResult Result(LongHistogram latency, long messages, double rate, Dictionary<string, long> errors) => new()
    {
        Parameters = new BenchParameters { Mode = "tcp", Endpoint = "127.0.0.1:1", Address = "127.0.0.1:1", Connections = 1, Pipeline = 1, Size = 32, WarmupSeconds = 0, Workers = 1, DurationSeconds = 1 },
        Messages = messages,
        Bytes = messages * 32,
        Seconds = 1,
        MessagesPerSecond = rate,
        ErrorsByReason = errors,
        Mismatches = 0,
        Latency = latency,
        ConnectTime = LatencyHistograms.Create(),
        Timeline = [],
    };

    [Fact]
    public void EncodedHistogramDecodesToTheSameCounts()
    {
        var histogram = Sample(1, 20_000);
        var decoded = HistogramCodec.Decode(HistogramCodec.Encode(histogram));
        AssertSameCounts(histogram, decoded);
    }

    [Fact]
    public void HotPathRecorderFillsTheSameBucketsAsHdrHistogram()
    {
        var random = new Random(4);
        var direct = LatencyHistograms.Create();
        var recorder = new LatencyRecorder();
        long[] edges = [0, 1, 2047, 2048, 2049, 4095, 4096, 1_000_000, LatencyHistograms.HighestMicroseconds];
        foreach (var value in edges.Concat(Enumerable.Range(0, 50_000).Select(_ => random.NextInt64(0, 10_000_000))))
        {
            direct.RecordValue(value);
            recorder.Record(value);
        }
        var converted = LatencyHistograms.Create();
        recorder.AddTo(converted);
        AssertSameCounts(direct, converted);
        Assert.Equal(direct.TotalCount, recorder.TotalCount);

        recorder.Reset();
        var empty = LatencyHistograms.Create();
        recorder.AddTo(empty);
        Assert.Equal(0, empty.TotalCount);
    }

    [Fact]
    public void DecodingRejectsSomethingThatIsNotAHistogram()
    {
        Assert.Throws<FormatException>(() => HistogramCodec.Decode("bm90IGEgaGlzdG9ncmFt"));
        Assert.Throws<FormatException>(() => HistogramCodec.Decode("%%%"));
    }

    [Fact]
    public void MergedJsonResultsAddHistogramsExactly()
    {
        var a = Sample(2, 10_000);
        var b = Sample(3, 7_000);
        var fromJson = new[]
        {
            BenchJson.Deserialize(BenchJson.Serialize(Result(a, a.TotalCount, 1000, new() { ["refused"] = 2 }))),
            BenchJson.Deserialize(BenchJson.Serialize(Result(b, b.TotalCount, 700, new() { ["refused"] = 1, ["reset"] = 4 }))),
        };
        var merged = BenchResult.Merge(fromJson);

        var expected = LatencyHistograms.Create();
        expected.Add(a);
        expected.Add(b);
        AssertSameCounts(expected, merged.Latency);
        Assert.Equal(a.TotalCount + b.TotalCount, merged.Messages);
        Assert.Equal(1700, merged.MessagesPerSecond);
        Assert.Equal(3, merged.ErrorsByReason["refused"]);
        Assert.Equal(4, merged.ErrorsByReason["reset"]);
        Assert.Equal(2, merged.Runs);

        // And once more through JSON: a merged result can be merged again without losing anything.
        var again = BenchJson.Deserialize(BenchJson.Serialize(merged));
        AssertSameCounts(expected, again.Latency);
    }
}
