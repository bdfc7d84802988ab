using System.Text.Json;
using EchoKit.Ping;
using EchoKit.Ping.Internal;

namespace EchoKit.Tests.Ping;

[Trait("Kind", "Unit")]
public sealed class PingJsonTests
{
    private static readonly string[] SummaryFields =
    [
        "sent", "received", "loss_percent", "duplicates", "late", "stalled", "mismatches", "timeouts", "refused", "errors", "rtt_ms", "jitter_ms",
        "up_seconds", "down_seconds", "longest_outage_seconds", "target", "mode",
    ];

    [Fact]
    public void SummaryHasExactlyTheDocumentedFields()
    {
        var statistics = new PingStatistics(TimeSpan.FromSeconds(1));
        statistics.Add(1, PingStatus.Ok, TimeSpan.FromMilliseconds(2));
        statistics.Add(2, PingStatus.Timeout, null);
        statistics.Add(3, PingStatus.Ok, TimeSpan.FromMilliseconds(4));

        using var json = JsonDocument.Parse(PingJson.Summary(statistics.Summarize("localhost:7", "echo")));
        var root = json.RootElement;

        Assert.Equal(SummaryFields, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["min", "avg", "max", "mdev", "p50", "p90", "p99"], root.GetProperty("rtt_ms").EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, root.GetProperty("sent").GetInt64());
        Assert.Equal(2, root.GetProperty("received").GetInt64());
        Assert.Equal(33.333333, root.GetProperty("loss_percent").GetDouble(), 6);
        Assert.Equal(2, root.GetProperty("rtt_ms").GetProperty("min").GetDouble());
        Assert.Equal(3, root.GetProperty("rtt_ms").GetProperty("avg").GetDouble());
        Assert.Equal(2, root.GetProperty("jitter_ms").GetDouble());
        Assert.Equal(2, root.GetProperty("up_seconds").GetDouble());
        Assert.Equal(1, root.GetProperty("down_seconds").GetDouble());
        Assert.Equal(1, root.GetProperty("longest_outage_seconds").GetDouble());
        Assert.Equal("localhost:7", root.GetProperty("target").GetString());
        Assert.Equal("echo", root.GetProperty("mode").GetString());
    }

    [Fact]
    public void SummaryAndEndEventBreakTheFailuresDownByKind()
    {
        var statistics = new PingStatistics(TimeSpan.FromSeconds(1));
        statistics.Add(1, PingStatus.Timeout, null);
        statistics.Add(2, PingStatus.Refused, null);
        statistics.Add(3, PingStatus.Refused, null);
        statistics.Add(4, PingStatus.Error, null);
        statistics.Add(5, PingStatus.Error, null);
        statistics.Add(6, PingStatus.Error, null);
        var summary = statistics.Summarize("h:1", "connect");

        using var document = JsonDocument.Parse(PingJson.Summary(summary));
        using var end = JsonDocument.Parse(PingJson.EndEvent(summary));

        foreach (var root in new[] { document.RootElement, end.RootElement.GetProperty("data") })
        {
            Assert.Equal((1, 2, 3), (root.GetProperty("timeouts").GetInt64(), root.GetProperty("refused").GetInt64(), root.GetProperty("errors").GetInt64()));
        }
    }

    [Fact]
    public void RoundTripsAreNullWhenNothingWasReceived()
    {
        var statistics = new PingStatistics(TimeSpan.FromSeconds(1));
        statistics.Add(1, PingStatus.Refused, null);

        using var json = JsonDocument.Parse(PingJson.Summary(statistics.Summarize("h:1", "connect")));

        foreach (var field in json.RootElement.GetProperty("rtt_ms").EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Null, field.Value.ValueKind);
        }
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("jitter_ms").ValueKind);
        Assert.Equal(100, json.RootElement.GetProperty("loss_percent").GetDouble());
    }

    [Theory]
    [InlineData(PingStatus.Ok, "ok", 0.412)]
    [InlineData(PingStatus.Timeout, "timeout", null)]
    [InlineData(PingStatus.Refused, "refused", null)]
    [InlineData(PingStatus.Error, "error", null)]
    [InlineData(PingStatus.Mismatch, "mismatch", null)]
    public void ProbeEventsCarrySequenceStatusAndRoundTrip(PingStatus status, string word, double? ms)
    {
        var reply = new PingReply(7, status, ms is { } v ? TimeSpan.FromMilliseconds(v) : null, null, ms is null ? "why" : null);

        var line = PingJson.ProbeEvent(reply);

        Assert.DoesNotContain('\n', line);
        using var json = JsonDocument.Parse(line);
        Assert.Equal(["event", "data"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("probe", json.RootElement.GetProperty("event").GetString());
        var data = json.RootElement.GetProperty("data");
        Assert.Equal(["seq", "status", "rtt_ms"], data.EnumerateObject().Select(p => p.Name));
        Assert.Equal(7, data.GetProperty("seq").GetInt64());
        Assert.Equal(word, data.GetProperty("status").GetString());
        if (ms is { } expected)
        {
            Assert.Equal(expected, data.GetProperty("rtt_ms").GetDouble(), 6);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, data.GetProperty("rtt_ms").ValueKind);
        }
    }

    [Fact]
    public void TheEndEventHoldsTheSummaryDocument()
    {
        var summary = new PingStatistics(TimeSpan.FromSeconds(1)).Summarize("h:1", "udp");

        using var json = JsonDocument.Parse(PingJson.EndEvent(summary));

        Assert.Equal("end", json.RootElement.GetProperty("event").GetString());
        Assert.Equal(SummaryFields, json.RootElement.GetProperty("data").EnumerateObject().Select(p => p.Name));
    }
}
