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
        foreach (var (error, line) in _queue.GetConsumingEnumerable())
        {
            var writer = error ? _err : _out;
            writer.WriteLine(line);
            if (_queue.Count == 0)
            {
                _out.Flush();
                _err.Flush();
            }
        }
        _out.Flush();
        _err.Flush();
    }

    /// <summary>Writes everything queued, then stops.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }
}
