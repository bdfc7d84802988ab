namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>How one <c>--assert</c> expression fared after a run.</summary>
/// <param name="Expression">The assertion.</param>
/// <param name="Actual">The measured value in the metric's base unit; null when the metric had no data (which fails).</param>
/// <param name="Passed">Whether the comparison held.</param>
internal sealed record AssertionOutcome(AssertionExpression Expression, double? Actual, bool Passed)
{
    /// <summary>One line for the terminal or CI log: <c>assert p99&lt;5ms: pass (p99 = 3.2ms)</c>.</summary>
    public string Describe()
    {
        var verdict = Passed ? "pass" : "FAIL";
        var measured = Actual is { } value
            ? $"{Expression.Metric.Name} = {AssertionExpression.FormatValue(Expression.Metric.Unit, value)}"
            : $"{Expression.Metric.Name}: no data";
        return $"assert {Expression.Text}: {verdict} ({measured})";
    }
}
