using System.CommandLine;
using EchoKit.Cli.Configuration;

namespace EchoKit.Tests.Operations;

/// <summary>
/// The layering works on whatever options a command has: an option another change adds to <c>serve</c> later is
/// configurable from the environment and a file with no code of its own. Run in-process on a stand-in command.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class ConfigLayeringGenericTests
{
    private readonly Option<int> _maxConnections = new("--max-connections") { DefaultValueFactory = _ => 0 };
    private readonly Option<string[]> _allow = new("--allow") { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> _reusePort = new("--reuse-port");
    private readonly Option<string> _unixMode = new("--unix-mode");

    private RootCommand Root(out Command serve)
    {
        serve = new Command("serve") { _maxConnections, _allow, _reusePort, _unixMode, ConfigOptions.Config, ConfigOptions.PrintConfig };
        serve.SetAction(_ => 0);
        return new RootCommand { serve };
    }

    private static ParseResult Apply(RootCommand root, string[] args, Dictionary<string, string> environment) =>
        ConfigLayering.Apply(root.Parse(args), args, name => environment.GetValueOrDefault(name));

    [Fact]
    public void OptionAddedLaterTakesItsValueFromTheEnvironment()
    {
        var root = Root(out _);

        var parse = Apply(root, ["serve"], new()
        {
            ["ECHOKIT_MAX_CONNECTIONS"] = "10",
            ["ECHOKIT_ALLOW"] = "10.0.0.0/8, ::1/128",
            ["ECHOKIT_REUSE_PORT"] = "yes",
            ["ECHOKIT_UNIX_MODE"] = "-0660", // a value starting with a dash is a value, not an option
        });

        Assert.Empty(parse.Errors);
        Assert.Equal(10, parse.GetValue(_maxConnections));
        Assert.Equal(["10.0.0.0/8", "::1/128"], parse.GetValue(_allow)!);
        Assert.True(parse.GetValue(_reusePort));
        Assert.Equal("-0660", parse.GetValue(_unixMode));
    }

    [Fact]
    public void OptionAddedLaterTakesItsValueFromTheFileUnderEveryKeyStyle()
    {
        var root = Root(out _);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{"maxConnections": 5, "allow": ["192.168.0.0/16"], "reuse_port": true}""");

            var parse = Apply(root, ["serve", "--config", path, "--max-connections", "6"], []);

            Assert.Empty(parse.Errors);
            Assert.Equal(6, parse.GetValue(_maxConnections));
            Assert.Equal(["192.168.0.0/16"], parse.GetValue(_allow)!);
            Assert.True(parse.GetValue(_reusePort));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NothingToLayerLeavesTheFirstParseAsItIs()
    {
        var root = Root(out _);
        var first = root.Parse(["serve", "--max-connections", "3"]);

        var parse = ConfigLayering.Apply(first, ["serve", "--max-connections", "3"], _ => null);

        Assert.Same(first, parse);
    }

    [Fact]
    public void EnvironmentNamesFollowOptionNames()
    {
        Assert.Equal("ECHOKIT_MAX_CONNECTIONS", ConfigLayering.EnvironmentName(_maxConnections));
        Assert.Equal("max-connections", ConfigLayering.KeyOf(_maxConnections));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(30_000, "30s")]
    [InlineData(120_000, "2m")]
    [InlineData(7_200_000, "2h")]
    [InlineData(250, "250ms")]
    [InlineData(1_500, "1500ms")]
    public void DurationsPrintInAFormTheParserReadsBack(int milliseconds, string expected)
    {
        var text = EffectiveConfig.FormatDuration(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, text);
        Assert.True(EchoKit.Cli.Parsing.DurationParser.TryParse(text, out var back));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), back);
    }
}
