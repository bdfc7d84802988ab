using System.CommandLine;
using EchoKit.Bench;

namespace EchoKit.Cli.Commands;

/// <summary>
/// <c>echokit bench merge a.json b.json ...</c>: adds results of runs made side by side (one per machine, e.g. the
/// pods of a Kubernetes Job) exactly: counts and errors summed, histograms added, rates and connections summed,
/// every run's parameters listed. Runs that differ in mode, transport, size or pipeline measured different loads:
/// they are refused (exit 2, naming the field) unless <c>--force</c>.
/// </summary>
internal static class BenchMergeCommand
{
    private static readonly Argument<FileInfo[]> Files = new("FILE")
    {
        Description = "Results written by 'echokit bench --json'.",
        Arity = ArgumentArity.OneOrMore,
    };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the combined result as one JSON object (mergeable again)." };
    private static readonly Option<FileInfo?> Report = new("--report") { Description = "Also write the combined HTML report.", HelpName = "FILE.html" };
    private static readonly Option<bool> Force = new("--force") { Description = "Merge even runs that differ in mode, transport, size or pipeline." };

    public static Command Create()
    {
        var command = new Command("merge", "Add up results of 'echokit bench --json' runs made side by side (histograms added exactly).")
        {
            Files, Json, Report, Force,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var results = new List<BenchResult>();
        foreach (var file in parse.GetValue(Files) ?? [])
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(file.FullName);
            }
            catch (Exception ex) when (Parsing.FileErrors.IsFileError(ex))
            {
                await Console.Error.WriteLineAsync($"echokit bench merge: cannot read {Parsing.FileErrors.Describe(file.FullName, ex)}");
                return ExitCodes.Failure;
            }
            // A file may hold one result or several, one per line (e.g. the logs of many pods concatenated); other lines
            // are skipped.
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (!line.StartsWith('{'))
                {
                    continue;
                }
                try
                {
                    results.Add(BenchJson.Deserialize(line));
                }
                catch (FormatException ex)
                {
                    await Console.Error.WriteLineAsync($"echokit bench merge: {file.FullName}:{i + 1}: {ex.Message}");
                    return ExitCodes.Failure;
                }
            }
        }
        if (results.Count == 0)
        {
            await Console.Error.WriteLineAsync("echokit bench merge: no bench result in the files given (a result is the one line 'echokit bench --json' writes)");
            return ExitCodes.Failure;
        }
        if (BenchResult.FindMismatch(results) is { } field && !parse.GetValue(Force))
        {
            throw new Parsing.UsageException($"the runs differ in {field}: their latencies describe different loads (--force merges them anyway)");
        }
        return await BenchOutput.WriteAsync(BenchResult.Merge(results), parse.GetValue(Json) ? BenchOutputFormat.Json : BenchOutputFormat.Table, parse.GetValue(Report), [], signalExitCode: 0);
    }
}
