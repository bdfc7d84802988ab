namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>What a metric measures, which decides the units its thresholds are written in.</summary>
internal enum AssertionUnit
{
    /// <summary>A time, in seconds; thresholds need a unit: <c>ns</c>, <c>us</c> (or <c>µs</c>), <c>ms</c>, <c>s</c>.</summary>
    Duration,

    /// <summary>A share, in percent (0 to 100); thresholds end in <c>%</c>.</summary>
    Percent,

    /// <summary>A count or a rate: a plain number, optionally with <c>k</c> (10³), <c>M</c> (10⁶) or <c>G</c> (10⁹), and <c>/s</c> for rates.</summary>
    Count,
}
