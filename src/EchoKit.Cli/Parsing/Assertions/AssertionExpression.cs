using System.Globalization;

namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>
/// One <c>--assert</c> expression: a metric, a comparison and a threshold, e.g. <c>p99&lt;5ms</c>, <c>rate&gt;=100k</c>,
/// <c>errors=0</c>, <c>loss&lt;0.1%</c>. The threshold is kept in the metric's base unit (seconds, percent, count),
/// the same unit the command's value provider reports.
/// </summary>
/// <remarks>
/// Grammar (spaces allowed between the parts): <c>NAME OP NUMBER [UNIT]</c>, where OP is one of
/// <c>&lt; &lt;= &gt; &gt;= = == !=</c>, NUMBER is decimal (underscores allowed), and UNIT depends on the metric:
/// durations need one of <c>ns us µs ms s</c> (a bare 0 is allowed), percentages need <c>%</c>, counts take
/// <c>k</c>, <c>M</c> or <c>G</c> and rates may end in <c>/s</c>.
/// </remarks>
internal sealed class AssertionExpression
{
    private AssertionExpression(string text, AssertionMetric metric, AssertionOperator op, double threshold)
    {
        Text = text;
        Metric = metric;
        Operator = op;
        Threshold = threshold;
    }

    /// <summary>The expression as given (trimmed), used when reporting pass or fail.</summary>
    public string Text { get; }

    public AssertionMetric Metric { get; }

    public AssertionOperator Operator { get; }

    /// <summary>The threshold in the metric's base unit: seconds, percent, or a plain count.</summary>
    public double Threshold { get; }

    /// <summary>Parses <paramref name="text"/> against the metrics a command knows; throws <see cref="UsageException"/> naming the expression.</summary>
    public static AssertionExpression Parse(string text, AssertionMetricSet metrics) =>
        TryParse(text, metrics, out var expression, out var error) ? expression : throw new UsageException(error);

    public static bool TryParse(string text, AssertionMetricSet metrics, out AssertionExpression expression, out string error)
    {
        expression = null!;
        var trimmed = text.Trim();
        string Fail(string reason) => $"invalid --assert '{trimmed}': {reason}";

        var i = 0;
        while (i < trimmed.Length && (char.IsAsciiLetterOrDigit(trimmed[i]) || trimmed[i] is '_' or '.'))
        {
            i++;
        }
        var name = trimmed[..i];
        if (name.Length == 0)
        {
            error = Fail($"expected a metric name first, e.g. p99<5ms (known: {metrics.KnownNames})");
            return false;
        }
        if (!metrics.TryGet(name, out var metric))
        {
            error = Fail($"unknown metric '{name}' (known: {metrics.KnownNames})");
            return false;
        }

        var rest = trimmed[i..].TrimStart();
        AssertionOperator op;
        (op, var opLength) = rest switch
        {
            _ when rest.StartsWith("<=", StringComparison.Ordinal) => (AssertionOperator.LessOrEqual, 2),
            _ when rest.StartsWith(">=", StringComparison.Ordinal) => (AssertionOperator.GreaterOrEqual, 2),
            _ when rest.StartsWith("==", StringComparison.Ordinal) => (AssertionOperator.Equal, 2),
            _ when rest.StartsWith("!=", StringComparison.Ordinal) => (AssertionOperator.NotEqual, 2),
            _ when rest.StartsWith('<') => (AssertionOperator.Less, 1),
            _ when rest.StartsWith('>') => (AssertionOperator.Greater, 1),
            _ when rest.StartsWith('=') => (AssertionOperator.Equal, 1),
            _ => ((AssertionOperator)(-1), 0),
        };
        if (opLength == 0)
        {
            error = Fail("expected a comparison (<, <=, >, >=, =, !=) after the metric name");
            return false;
        }

        var value = rest[opLength..].Trim();
        var digits = 0;
        while (digits < value.Length && (char.IsAsciiDigit(value[digits]) || value[digits] is '.' or '_'))
        {
            digits++;
        }
        var numberText = value[..digits].Replace("_", "", StringComparison.Ordinal);
        if (numberText.Length == 0 || !double.TryParse(numberText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            error = Fail($"expected a number after the comparison, e.g. {Example(metric)}");
            return false;
        }
        var unitText = value[digits..].Trim();
        if (!TryScale(metric, number, unitText, out var threshold, out var unitError))
        {
            error = Fail(unitError);
            return false;
        }

        expression = new AssertionExpression(trimmed, metric, op, threshold);
        error = "";
        return true;
    }

    /// <summary>
    /// Compares the metric's measured value (in its base unit) with the threshold. A metric with no data
    /// (null: an empty histogram) fails, because nothing was shown to hold.
    /// </summary>
    public AssertionOutcome Evaluate(double? actual)
    {
        if (actual is not { } value || double.IsNaN(value))
        {
            return new AssertionOutcome(this, null, false);
        }
        var comparison = Compare(value, Threshold);
        var passed = Operator switch
        {
            AssertionOperator.Less => comparison < 0,
            AssertionOperator.LessOrEqual => comparison <= 0,
            AssertionOperator.Greater => comparison > 0,
            AssertionOperator.GreaterOrEqual => comparison >= 0,
            AssertionOperator.Equal => comparison == 0,
            AssertionOperator.NotEqual => comparison != 0,
            _ => false,
        };
        return new AssertionOutcome(this, value, passed);
    }

    /// <summary>Evaluates every expression with one lookup (metric → measured value, null when there is no data).</summary>
    public static IReadOnlyList<AssertionOutcome> EvaluateAll(IEnumerable<AssertionExpression> expressions, Func<AssertionMetric, double?> values) =>
        expressions.Select(e => e.Evaluate(values(e.Metric))).ToArray();

    /// <summary>Formats a value of a metric's unit as people write it: <c>3.2ms</c>, <c>0.05%</c>, <c>24800</c>.</summary>
    public static string FormatValue(AssertionUnit unit, double value)
    {
        var inv = CultureInfo.InvariantCulture;
        return unit switch
        {
            AssertionUnit.Duration => Math.Abs(value) switch
            {
                0 => "0s",
                < 1e-6 => (value * 1e9).ToString("0.###", inv) + "ns",
                < 1e-3 => (value * 1e6).ToString("0.###", inv) + "us",
                < 1 => (value * 1e3).ToString("0.###", inv) + "ms",
                _ => value.ToString("0.###", inv) + "s",
            },
            AssertionUnit.Percent => value.ToString("0.####", inv) + "%",
            _ => value.ToString("0.###", inv),
        };
    }

    private static bool TryScale(AssertionMetric metric, double number, string unit, out double threshold, out string error)
    {
        threshold = 0;
        error = "";
        switch (metric.Unit)
        {
            case AssertionUnit.Duration:
                double? scale = unit switch
                {
                    "ns" => 1e-9,
                    "us" or "µs" or "μs" => 1e-6,
                    "ms" => 1e-3,
                    "s" => 1,
                    "" when number == 0 => 1,
                    _ => null,
                };
                if (scale is not { } s)
                {
                    error = unit.Length == 0
                        ? $"{metric.Name} is a duration: give a unit (ns, us, ms, s), e.g. {Example(metric)}"
                        : $"unknown duration unit '{unit}' for {metric.Name} (use ns, us, ms, s)";
                    return false;
                }
                threshold = number * s;
                return true;

            case AssertionUnit.Percent:
                if (unit != "%" && !(unit.Length == 0 && number == 0))
                {
                    error = $"{metric.Name} is a percentage: end the number with %, e.g. {Example(metric)}";
                    return false;
                }
                if (number > 100)
                {
                    error = $"{metric.Name} is a percentage: {number.ToString(CultureInfo.InvariantCulture)}% is above 100%";
                    return false;
                }
                threshold = number;
                return true;

            default:
                var perSecond = unit.EndsWith("/s", StringComparison.Ordinal);
                var suffix = perSecond ? unit[..^2].TrimEnd() : unit;
                double? multiplier = suffix switch
                {
                    "" => 1,
                    "k" or "K" => 1e3,
                    "M" => 1e6,
                    "G" => 1e9,
                    _ => null,
                };
                if (multiplier is not { } m)
                {
                    error = $"unknown suffix '{unit}' for {metric.Name} (use k, M or G, e.g. {Example(metric)})";
                    return false;
                }
                threshold = number * m;
                return true;
        }
    }

    private static string Example(AssertionMetric metric) => metric.Unit switch
    {
        AssertionUnit.Duration => $"{metric.Name}<5ms",
        AssertionUnit.Percent => $"{metric.Name}<0.1%",
        _ => $"{metric.Name}>=100k",
    };

    // Thresholds come from decimal text and values from integer microseconds scaled to seconds, so 5000 us
    // and "5ms" can differ in the last bit; a relative tolerance far below any unit keeps 5ms<=5ms true.
    private static int Compare(double actual, double threshold)
    {
        var tolerance = 1e-9 * Math.Max(Math.Abs(actual), Math.Abs(threshold));
        return Math.Abs(actual - threshold) <= tolerance ? 0 : actual < threshold ? -1 : 1;
    }
}
