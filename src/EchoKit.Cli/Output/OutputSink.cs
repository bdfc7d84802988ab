using System.Collections.Concurrent;

namespace EchoKit.Cli.Output;

/// <summary>
/// Writes lines to stdout and stderr from one background thread, in the order they were queued. Socket completions
/// run inline on the I/O threads, so they must never block on a slow terminal or pipe: they queue a line and go on.
/// The queue is bounded (a flood of log lines waits rather than growing memory without limit).
/// </summary>
internal sealed class OutputSink : IDisposable
{
    private const int Capacity = 8192;
    private readonly BlockingCollection<(bool Error, string Line)> _queue = new(Capacity);
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly Thread _thread;

    public OutputSink(TextWriter? stdout = null, TextWriter? stderr = null)
    {
        _out = stdout ?? Console.Out;
        _err = stderr ?? Console.Error;
        _thread = new Thread(Drain) { IsBackground = true, Name = "echokit output" };
        _thread.Start();
    }

    public void WriteLine(string line) => Enqueue(false, line);

    public void WriteError(string line) => Enqueue(true, line);

    private void Enqueue(bool error, string line)
    {
        if (!_queue.IsAddingCompleted)
        {
            try
            {
                _queue.Add((error, line));
            }
            catch (InvalidOperationException)
            {
                // Disposed between the check and the add: the program is exiting; the line is moot.
            }
        }
    }

    private void Drain()
    {
        // A stream that failed once is gone for good (a terminal hung up: EIO; the descriptor closed): its lines are
        // dropped from then on, and the queue keeps draining, so the threads that log never wait on it and the
        // program (a server draining after SIGHUP) finishes its work.
        bool outGone = false, errGone = false;
        foreach (var (error, line) in _queue.GetConsumingEnumerable())
        {
            if (error)
            {
                Write(_err, line, ref errGone);
            }
            else
            {
                Write(_out, line, ref outGone);
            }
            if (_queue.Count == 0)
            {
                Flush(_out, ref outGone);
                Flush(_err, ref errGone);
            }
        }
        Flush(_out, ref outGone);
        Flush(_err, ref errGone);
    }

    private static void Write(TextWriter writer, string line, ref bool gone)
    {
        if (gone)
        {
            return;
        }
        try
        {
            writer.WriteLine(line);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            gone = true;
        }
    }

    private static void Flush(TextWriter writer, ref bool gone)
    {
        if (gone)
        {
            return;
        }
        try
        {
            writer.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            gone = true;
        }
    }

    /// <summary>Writes everything queued, then stops.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }
}
