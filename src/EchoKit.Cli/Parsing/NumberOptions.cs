using System.CommandLine;

namespace EchoKit.Cli.Parsing;

/// <summary>Option factories for numbers <see cref="CliOptions.Int"/> does not cover: 64-bit counts and rates.</summary>
internal static class NumberOptions
{
    public static Option<long?> OptionalLong(string name, string description, long min, long max) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!SizeParser.TryParseWholeCount(text, out var value) || value < min || value > max)
            {
                result.AddError($"invalid value '{text}' for {name}: expected a whole number from {min} to {max} (suffixes k, M, G = 10^3, 10^6, 10^9)");
                return null;
            }
            return value;
        },
    };

    public static Option<double?> OptionalRate(string name, string description, double max) => new(name)
    {
        Description = description,
        HelpName = "R",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!SizeParser.TryParseCount(text, out var value) || value <= 0 || value > max)
            {
                result.AddError($"invalid value '{text}' for {name}: expected a number of messages per second above 0 and at most {max:0}, e.g. 500, 2.5k, 10k, 1M");
                return null;
            }
            return value;
        },
    };
}
