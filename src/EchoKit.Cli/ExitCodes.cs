namespace EchoKit.Cli;

/// <summary>The program's exit codes, the same for every command.</summary>
internal static class ExitCodes
{
    /// <summary>Success: the server stopped cleanly, the echo matched.</summary>
    public const int Ok = 0;

    /// <summary>The job failed: address in use, connection refused, mismatch, timeout...</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: a bad option, endpoint or value.</summary>
    public const int Usage = 2;

    /// <summary>The job ran, but an <c>--assert</c> expression did not hold (bench, ping).</summary>
    public const int AssertionFailed = 3;

    /// <summary>
    /// Standard output was closed under a command that runs until stopped (<c>ping ... | head -3</c>): 128 + SIGPIPE,
    /// the status a C tool dies with there, so <c>set -o pipefail</c> scripts read it the same way.
    /// </summary>
    public const int OutputClosed = 141;
}
