using System.CommandLine;
using System.Text;
using CsCheck;
using EchoKit.Cli.Configuration;
using EchoKit.Cli.Observability;

namespace EchoKit.Tests.Properties;

/// <summary>The metrics endpoint's request line and the config file: what a stranger or a typo can feed them.</summary>
[Trait("Kind", "Unit")]
public sealed class RequestAndConfigProperties : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("echokit-props-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void RequestLinesRoundTrip() =>
        Gen.Select(Gen.String[Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZ"], 1, 8], Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789/-._~"], 0, 40], Gen.Char["01"])
            .Sample((method, path, minor) =>
            {
                var head = HttpRequestHead.Parse(Encoding.ASCII.GetBytes($"{method} /{path}?q=1 HTTP/1.{minor}\r\nHost: x"));

                Assert.Equal((method, "/" + path), (head.Method, head.Path));
            });

    [Fact]
    public void ArbitraryRequestHeadsParseOrFailWithTheFormatExceptionOnly() =>
        Gen.OneOf(Gen.Byte.Array[0, 200], PropertyGens.AnyText.Select(t => Encoding.UTF8.GetBytes("GET " + t))).Sample(bytes =>
        {
            try
            {
                var head = HttpRequestHead.Parse(bytes);
                Assert.False(string.IsNullOrEmpty(head.Method));
            }
            catch (HttpRequestFormatException)
            {
                // The documented refusal.
            }
        }, iter: 5000);

    [Fact]
    public void ArbitraryConfigFilesApplyOrFailWithConfigurationExceptionOnly()
    {
        var count = new Option<int>("--count") { DefaultValueFactory = _ => 1 };
        var names = new Option<string[]>("--name") { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        var flag = new Option<bool>("--flag");
        var path = Path.Combine(_directory, "echokit.json");
        var json = Gen.OneOf(
            PropertyGens.AnyText,
            Gen.Select(Gen.OneOf(Gen.Const("count"), Gen.Const("name"), Gen.Const("flag"), Gen.Const("config"), Gen.String[Gen.Char["abc-_"], 0, 8]),
                    Gen.OneOf(Gen.Const("1"), Gen.Const("\"x\""), Gen.Const("[\"a\",\"b\"]"), Gen.Const("true"), Gen.Const("null"), Gen.Const("{}"), Gen.Const("-5"), Gen.Const("1e999"), Gen.Const("\"--flag\"")))
                .Array[0, 4]
                .Select(pairs => "{" + string.Join(",", pairs.Select(p => $"\"{p.Item1}\": {p.Item2}")) + "}"));

        json.Sample(text =>
        {
            File.WriteAllText(path, text);
            var serve = new Command("serve") { count, names, flag, ConfigOptions.Config, ConfigOptions.PrintConfig };
            serve.SetAction(_ => 0);
            var root = new RootCommand { serve };
            string[] args = ["serve", "--config", path];
            try
            {
                var parse = ConfigLayering.Apply(root.Parse(args), args, _ => null);
                Assert.NotNull(parse);
            }
            catch (ConfigurationException ex)
            {
                Assert.Contains(path, ex.Message);
            }
        }, iter: 1000, threads: 1);
    }
}
