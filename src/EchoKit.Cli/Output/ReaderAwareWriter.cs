using System.Text;

namespace EchoKit.Cli.Output;

/// <summary>
/// Text lines to standard output for a command that runs until it is stopped (<c>ping</c>, <c>bench</c>). When a
/// write finds that the reader has gone (<c>echokit ping host | head -3</c>), <see cref="ReaderGone"/> is cancelled
/// and later writes are dropped: the command stops as C's ping does on SIGPIPE, and exits
/// <see cref="ExitCodes.OutputClosed"/> without a word. Every write is flushed, as Console's writer is, so a pipe
/// sees each line when it is printed. Not thread-safe by itself: share it through <see cref="TextWriter.Synchronized"/>.
/// </summary>
internal sealed class ReaderAwareWriter : TextWriter
{
    private readonly StreamWriter _inner;
    private readonly CancellationTokenSource _gone = new();

    public ReaderAwareWriter(Stream stdout)
    {
        _inner = new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
        NewLine = "\n";
        _inner.NewLine = "\n";
    }

    /// <summary>Standard output (<see cref="StandardOutput.Open"/>).</summary>
    public static ReaderAwareWriter OpenStandardOutput() => new(StandardOutput.Open());

    /// <summary>Cancelled once a write failed because nobody reads standard output any more.</summary>
    public CancellationToken ReaderGone => _gone.Token;

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
        catch (IOException)
        {
            // EPIPE (or the descriptor closed under us): nobody will read what follows.
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
