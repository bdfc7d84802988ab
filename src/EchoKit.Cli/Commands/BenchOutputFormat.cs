namespace EchoKit.Cli.Commands;

/// <summary>How <c>echokit bench</c> prints its result on stdout.</summary>
internal enum BenchOutputFormat
{
    /// <summary>The aligned table (and assertion lines after it).</summary>
    Table,

    /// <summary>One JSON document (<c>--json</c>); assertion lines go to stderr.</summary>
    Json,

    /// <summary>The <c>end</c> event of <c>--json-stream</c>, whose data is the <c>--json</c> document; assertion lines go to stderr.</summary>
    JsonStream,
}
