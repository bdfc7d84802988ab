using System.CommandLine;
using EchoKit.Cli.Parsing;
using EchoKit.Cli.Parsing.Assertions;

namespace EchoKit.Tests.Cli;

[Trait("Kind", "Unit")]
public sealed class AssertionExpressionTests
{
    private static readonly AssertionMetricSet Metrics = new(
    [
        new AssertionMetric("p99", AssertionUnit.Duration, "99th percentile latency"),
        new AssertionMetric("p999", AssertionUnit.Duration, "99.9th percentile latency"),
        new AssertionMetric("max", AssertionUnit.Duration, "largest latency"),
        new AssertionMetric("connect_p99", AssertionUnit.Duration, "99th percentile connect time"),
        new AssertionMetric("rate", AssertionUnit.Count, "messages per second"),
        new AssertionMetric("errors", AssertionUnit.Count, "errors"),
        new AssertionMetric("loss", AssertionUnit.Percent, "datagrams lost"),
    ],
    ["p99<5ms", "loss<0.1%"]);

    [Theory]
    [InlineData("p99<5ms", "p99", "Less", 0.005)]
    [InlineData("p999<=20ms", "p999", "LessOrEqual", 0.020)]
    [InlineData("max<1s", "max", "Less", 1.0)]
    [InlineData("max < 250us", "max", "Less", 0.000250)]
    [InlineData("max<250µs", "max", "Less", 0.000250)]
    [InlineData("max<900ns", "max", "Less", 0.000000900)]
    [InlineData("connect_p99<10ms", "connect_p99", "Less", 0.010)]
    [InlineData("rate>=100k", "rate", "GreaterOrEqual", 100_000)]
    [InlineData("rate>1.5M/s", "rate", "Greater", 1_500_000)]
    [InlineData("rate>=100_000", "rate", "GreaterOrEqual", 100_000)]
    [InlineData("errors=0", "errors", "Equal", 0)]
    [InlineData("errors==0", "errors", "Equal", 0)]
    [InlineData("errors!=3", "errors", "NotEqual", 3)]
    [InlineData("loss<0.1%", "loss", "Less", 0.1)]
    [InlineData("P99<5ms", "p99", "Less", 0.005)]
    [InlineData("p99<0", "p99", "Less", 0)]
    public void ExpressionsParseWithUnits(string text, string metric, string op, double threshold)
    {
        var expression = AssertionExpression.Parse(text, Metrics);
        Assert.Equal(metric, expression.Metric.Name);
        Assert.Equal(op, expression.Operator.ToString());
        Assert.Equal(threshold, expression.Threshold, 12);
    }

    [Theory]
    [InlineData("", "expected a metric name")]
    [InlineData("<5ms", "expected a metric name")]
    [InlineData("p98<5ms", "unknown metric 'p98' (known: p99, p999, max, connect_p99, rate, errors, loss)")]
    [InlineData("p99 5ms", "expected a comparison")]
    [InlineData("p99=>5ms", "expected a number")]
    [InlineData("p99<", "expected a number")]
    [InlineData("p99<5", "give a unit")]
    [InlineData("p99<5parsecs", "unknown duration unit 'parsecs'")]
    [InlineData("loss<0.1", "end the number with %")]
    [InlineData("loss<101%", "above 100%")]
    [InlineData("rate>=100x", "unknown suffix 'x'")]
    [InlineData("errors=-1", "expected a number")]
    public void MalformedExpressionsAreUsageErrorsNamingTheExpression(string text, string reason)
    {
        var ex = Assert.Throws<UsageException>(() => AssertionExpression.Parse(text, Metrics));
        Assert.StartsWith($"invalid --assert '{text.Trim()}': ", ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Theory]
    [InlineData("p99<5ms", 0.004999, true)]
    [InlineData("p99<5ms", 0.005, false)]
    [InlineData("p99<=5ms", 0.005, true)]
    [InlineData("p99<=5ms", 0.0050011, false)]
    [InlineData("rate>=100k", 100_000, true)]
    [InlineData("rate>=100k", 99_999.9, false)]
    [InlineData("rate>100k", 100_000, false)]
    [InlineData("errors=0", 0, true)]
    [InlineData("errors=0", 1, false)]
    [InlineData("errors!=0", 1, true)]
    [InlineData("loss<0.1%", 0.099, true)]
    [InlineData("loss<0.1%", 0.1, false)]
    public void EvaluationComparesInTheMetricsBaseUnit(string text, double actual, bool passed) =>
        Assert.Equal(passed, AssertionExpression.Parse(text, Metrics).Evaluate(actual).Passed);

    [Theory]
    [InlineData(5000)]
    [InlineData(20000)]
    public void AThresholdEqualToAMicrosecondValueHoldsDespiteRounding(long microseconds)
    {
        var seconds = microseconds * 1e-6; // how bench turns histogram values into seconds
        var text = $"p99<={microseconds / 1000}ms";
        Assert.True(AssertionExpression.Parse(text, Metrics).Evaluate(seconds).Passed);
        Assert.False(AssertionExpression.Parse($"p99<{microseconds / 1000}ms", Metrics).Evaluate(seconds).Passed);
    }

    [Fact]
    public void AMetricWithNoDataFailsAndSaysSo()
    {
        var outcome = AssertionExpression.Parse("connect_p99<10ms", Metrics).Evaluate(null);
        Assert.False(outcome.Passed);
        Assert.Equal("assert connect_p99<10ms: FAIL (connect_p99: no data)", outcome.Describe());
    }

    [Fact]
    public void OutcomesDescribeVerdictAndMeasuredValue()
    {
        var expressions = new[] { AssertionExpression.Parse("p99<5ms", Metrics), AssertionExpression.Parse("rate>=100k", Metrics), AssertionExpression.Parse("loss<0.1%", Metrics) };
        var values = new Dictionary<string, double> { ["p99"] = 0.0032, ["rate"] = 24_800, ["loss"] = 0.05 };
        var outcomes = AssertionExpression.EvaluateAll(expressions, metric => values[metric.Name]);
        Assert.Equal(
            ["assert p99<5ms: pass (p99 = 3.2ms)", "assert rate>=100k: FAIL (rate = 24800)", "assert loss<0.1%: pass (loss = 0.05%)"],
            outcomes.Select(o => o.Describe()));
    }

    [Fact]
    public void TheOptionIsRepeatableAndRejectsAMalformedExpressionByName()
    {
        var option = AssertionOptions.Create(Metrics);
        var command = new RootCommand { option };

        var good = command.Parse(["--assert", "p99<5ms", "--assert", "errors=0"]);
        Assert.Empty(good.Errors);
        Assert.Equal(["p99<5ms", "errors=0"], good.GetValue(option)!.Select(e => e.Text));

        Assert.Empty(command.Parse([]).GetValue(option)!);

        var bad = command.Parse(["--assert", "p99<5ms", "--assert", "p99<5xs"]);
        Assert.Contains(bad.Errors, e => e.Message.StartsWith("invalid --assert 'p99<5xs'", StringComparison.Ordinal));
    }

    [Fact]
    public void DeclaringAMetricTwiceIsRejected() =>
        Assert.Throws<ArgumentException>(() => new AssertionMetricSet([new AssertionMetric("p99", AssertionUnit.Duration, ""), new AssertionMetric("P99", AssertionUnit.Duration, "")], []));

    [Fact]
    public void AHelpExampleNamingAMetricTheSetDoesNotHaveIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new AssertionMetricSet([new AssertionMetric("loss", AssertionUnit.Percent, "")], ["loss<1%", "rate>=100k"]));
        Assert.Contains("unknown metric 'rate'", error.Message);
    }
}
