using System.CommandLine;

namespace EchoKit.Cli.Parsing.Assertions;

/// <summary>The repeatable <c>--assert EXPR</c> option, parsed against a command's metrics; a malformed expression is a usage error (exit 2) naming it.</summary>
internal static class AssertionOptions
{
    public static Option<AssertionExpression[]> Create(AssertionMetricSet metrics, string name = "--assert") => new(name)
    {
        Description = $"Check the result after the run, e.g. {string.Join(", ", metrics.Examples)}; repeatable; a breach exits 3. Metrics: {metrics.KnownNames}.",
        HelpName = "EXPR",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var expressions = new List<AssertionExpression>(result.Tokens.Count);
            foreach (var token in result.Tokens)
            {
                if (!AssertionExpression.TryParse(token.Value, metrics, out var expression, out var error))
                {
                    result.AddError(error);
                    return [];
                }
                expressions.Add(expression);
            }
            return expressions.ToArray();
        },
    };
}
