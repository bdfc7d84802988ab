using System.Globalization;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// Parses durations as people write them: <c>250ms</c>, <c>10s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>, <c>1d</c>,
/// or a plain number of seconds. The one parser of durations for every option, config file and variable.
/// </summary>
internal static class DurationParser
{
    /// <summary>The forms accepted, for error messages: every rejection shows them.</summary>
    public const string AcceptedForms = "a number with a unit: 250ms, 10s, 1.5m, 2h, 1d (us, ms, s, m, h, d; a bare number is seconds)";

    /// <summary>
    /// The longest duration any option takes, checked here so that no option can hand a timer more than it accepts:
    /// .NET's timers, <c>Task.Delay</c> and <c>CancelAfter</c> throw beyond 2^32-2 ms (49.7 days), and socket timeouts
    /// beyond <see cref="int.MaxValue"/> ms (24.8 days). 24 days stays under both, and so do two of them added (a probe's
    /// idle period and its grace). An option may bound itself more tightly after parsing.
    /// </summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromDays(24); // the library's TimerLimits.Longest, which this project cannot see

    /// <summary>The shortest duration other than 0 that any option takes: 1us, the smallest unit written.</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromMicroseconds(1);

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim().Replace("_", "", StringComparison.Ordinal);
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith("us", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.000001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ when text.EndsWith('d') || text.EndsWith('D') => (text[..^1], 86400.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || value < 0 || value * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }

    /// <summary>The error for a rejected duration, naming the option and the accepted forms.</summary>
    public static string Invalid(string text, string option) => $"invalid duration '{text}' for {option}: expected {AcceptedForms}";

    /// <summary>
    /// Reads an option's duration: null with the value, or the one-line error. A zero that the option does not take
    /// is told as such ("must be more than 0"), not as a form the parser cannot read; so is one over <see cref="Maximum"/>
    /// or, other than 0, under <see cref="Minimum"/>.
    /// </summary>
    public static string? Read(string text, string option, bool allowZero, out TimeSpan duration)
    {
        if (!TryParse(text, out duration))
        {
            return Invalid(text, option);
        }
        if (duration > Maximum)
        {
            return $"{option} must be at most {Format(Maximum)} (got '{text}')";
        }
        if (duration > TimeSpan.Zero && duration < Minimum)
        {
            // 0.4us would run as a duration the clocks cannot tell from 0 (bench -t measured 0 s, ping -W timed out at once).
            return $"{option} must be at least {Format(Minimum)} (got '{text}')";
        }
        return duration == TimeSpan.Zero && !allowZero ? $"{option} must be more than 0 (got '{text}')" : null;
    }

    /// <summary>The shortest exact form <see cref="TryParse"/> reads back: <c>30s</c>, <c>2m</c>, <c>250ms</c>, <c>1.5s</c>, <c>7d</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }
        foreach (var (ticks, unit) in Units)
        {
            if (duration.Ticks % ticks == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{duration.Ticks / ticks}{unit}");
            }
        }
        return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:R}s");
    }

    private static readonly (long Ticks, string Unit)[] Units =
    [
        (TimeSpan.TicksPerDay, "d"),
        (TimeSpan.TicksPerHour, "h"),
        (TimeSpan.TicksPerMinute, "m"),
        (TimeSpan.TicksPerSecond, "s"),
        (TimeSpan.TicksPerMillisecond, "ms"),
        (TimeSpan.TicksPerMicrosecond, "us"),
    ];
}
