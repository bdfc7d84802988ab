using System.Text;
using EchoKit.Client;

namespace EchoKit.Cli.Output;

/// <summary>
/// Text lines to standard output for a command that runs until it is stopped (<c>ping</c>, <c>bench</c>). When a
/// write finds that the reader has gone (<c>echokit ping host | head -3</c>), <see cref="ReaderGone"/> is cancelled
/// and later writes are dropped: the command stops as C's ping does on SIGPIPE, and exits
/// <see cref="ExitCodes.OutputClosed"/> without a word. Any other failed write (a full disk) stops it the same way,
/// and is then reported in one line (<see cref="ExitCodeWhenGone"/>). Every write is flushed, as Console's writer is, so a pipe
/// sees each line when it is printed. Not thread-safe by itself: share it through <see cref="TextWriter.Synchronized"/>.
/// </summary>
internal sealed class ReaderAwareWriter : TextWriter
{
    private readonly StreamWriter _inner;
    private readonly CancellationTokenSource _gone = new();
    private IOException? _failure;

    public ReaderAwareWriter(Stream stdout)
    {
        _inner = new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
        NewLine = "\n";
        _inner.NewLine = "\n";
    }

    /// <summary>Standard output (<see cref="StandardOutput.Open"/>).</summary>
    public static ReaderAwareWriter OpenStandardOutput() => new(StandardOutput.Open());

    /// <summary>Cancelled once a write failed: nobody reads standard output any more, or it cannot be written.</summary>
    public CancellationToken ReaderGone => _gone.Token;

    /// <summary>
    /// Once <see cref="ReaderGone"/> is cancelled: <see cref="ExitCodes.OutputClosed"/> when the reader left (EPIPE);
    /// any other failure is thrown, for <see cref="Program"/> to report in one line with exit 1.
    /// </summary>
    public int ExitCodeWhenGone()
    {
        if (_failure is { } failure && !ClientErrors.IsBrokenPipe(failure))
        {
            throw failure;
        }
        return ExitCodes.OutputClosed;
    }

    public override Encoding Encoding => _inner.Encoding;

    public override void Write(char value) => Guard(() => _inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Guard(() => _inner.Write(buffer, index, count));

    public override void Write(string? value) => Guard(() => _inner.Write(value));

    public override void WriteLine(string? value) => Guard(() => _inner.Write(value + NewLine));

    public override void Flush() => Guard(_inner.Flush);

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override Task FlushAsync()
    {
        Flush();
        return Task.CompletedTask;
    }

    private void Guard(Action write)
    {
        if (_gone.IsCancellationRequested)
        {
            return;
        }
        try
        {
            write();
        }
        catch (IOException ex)
        {
            // EPIPE: nobody will read what follows. Anything else (ENOSPC, EBADF) is kept for ExitCodeWhenGone.
            _failure ??= ex;
            _gone.Cancel();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                _inner.Dispose();
            }
            catch (IOException)
            {
                // The final flush hit the closed pipe: nothing was waiting for it.
            }
            _gone.Dispose();
        }
        base.Dispose(disposing);
    }
}
