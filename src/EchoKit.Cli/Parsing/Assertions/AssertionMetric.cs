namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>A metric an <c>--assert</c> expression may name.</summary>
/// <param name="Name">The name as written on the command line, e.g. <c>p99</c> or <c>connect_p99</c>; compared without case.</param>
/// <param name="Unit">What the metric measures; its value provider reports it in this unit's base (seconds, percent, count).</param>
/// <param name="Description">A few words for the usage error that lists the known metrics.</param>
internal sealed record AssertionMetric(string Name, AssertionUnit Unit, string Description);
