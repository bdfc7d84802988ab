namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>The comparison an assertion makes between a metric and its threshold.</summary>
internal enum AssertionOperator
{
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}
