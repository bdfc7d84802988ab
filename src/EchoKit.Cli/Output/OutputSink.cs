namespace EchoKit.Cli.Output;

/// <summary>
/// Writes lines to stdout and stderr from one background thread, in the order they were queued. Socket completions
/// and the epoll loops run on I/O threads, so they must never block on a slow terminal or pipe: they queue a line and
/// go on. What the sink holds is bounded in lines and in bytes (<see cref="OutputSinkOptions"/>). When it is full, a
/// lossless sink makes the writer of a line wait; a dropping sink (the server's) drops the line, counts it
/// (<see cref="DroppedLines"/>) and writes one notice saying how many were dropped, where they were, once the reader
/// catches up. A stdout nobody reads (<c>serve | slow-consumer</c>, a terminal paused with Ctrl+S) then costs log lines,
/// never echo traffic, and at most the bounds in memory.
/// </summary>
internal sealed class OutputSink : IDisposable
{
    private readonly OutputSinkOptions _options;
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly Thread _thread;

    // A monitor rather than a Lock: the writer waits for lines, and a lossless sink's producers wait for room.
    private readonly object _gate = new();
    private readonly Queue<Entry> _queue = new();
    private int _heldLines;     // queued, plus the one being written
    private long _heldBytes;    // the same lines' text, 2 bytes a character
    private long _droppedSince; // dropped since the last line queued: the notice goes before the next one
    private long _droppedTotal;
    private int _waitingProducers;
    private bool _writerWaiting;
    private bool _completed;

    /// <summary>A lossless sink (<see cref="OutputSinkOptions.Lossless"/>) on <paramref name="stdout"/> and <paramref name="stderr"/>, the console's by default.</summary>
    public OutputSink(TextWriter? stdout = null, TextWriter? stderr = null)
        : this(OutputSinkOptions.Lossless, stdout, stderr)
    {
    }

    public OutputSink(OutputSinkOptions options, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBytes, 1);
        _options = options;
        _out = stdout ?? Console.Out;
        _err = stderr ?? Console.Error;
        _thread = new Thread(Drain) { IsBackground = true, Name = "echokit output" };
        _thread.Start();
    }

    /// <summary>Lines dropped so far because the output was not read fast enough (always 0 for a lossless sink).</summary>
    public long DroppedLines => Interlocked.Read(ref _droppedTotal);

    public void WriteLine(string line) => Enqueue(false, line);

    public void WriteError(string line) => Enqueue(true, line);

    private void Enqueue(bool error, string line)
    {
        var bytes = (long)line.Length * sizeof(char);
        lock (_gate)
        {
            while (!_completed && !Fits(bytes))
            {
                if (_options.DroppedNotice is not null)
                {
                    _droppedSince++;
                    Interlocked.Increment(ref _droppedTotal);
                    return;
                }
                _waitingProducers++;
                Monitor.Wait(_gate);
                _waitingProducers--;
            }
            if (_completed)
            {
                // Disposed: the program is exiting; the line is moot.
                return;
            }
            _queue.Enqueue(new Entry(error, line, bytes, _droppedSince));
            _droppedSince = 0;
            _heldLines++;
            _heldBytes += bytes;
            if (_writerWaiting)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>A line fits under both bounds, or is the only one (so a line longer than the byte bound is still written).</summary>
    private bool Fits(long bytes) =>
        _heldLines == 0 || (_heldLines < _options.MaxLines && _heldBytes + bytes <= _options.MaxBytes);

    private void Drain()
    {
        // A stream that failed once is gone for good (a terminal hung up: EIO; the descriptor closed): its lines are
        // dropped from then on, and the queue keeps draining, so the threads that log never wait on it and the
        // program (a server draining after SIGHUP) finishes its work.
        bool outGone = false, errGone = false;
        while (true)
        {
            Entry entry;
            lock (_gate)
            {
                while (_queue.Count == 0 && _droppedSince == 0 && !_completed)
                {
                    _writerWaiting = true;
                    Monitor.Wait(_gate);
                    _writerWaiting = false;
                }
                if (_queue.Count > 0)
                {
                    entry = _queue.Dequeue();
                }
                else if (_droppedSince > 0)
                {
                    // Caught up with nothing queued after the drop: say so now rather than with the next line.
                    entry = new Entry(false, null, 0, _droppedSince);
                    _droppedSince = 0;
                }
                else
                {
                    break; // completed, and everything queued is written
                }
            }

            if (entry.DroppedBefore > 0)
            {
                Write(_out, _options.DroppedNotice!(entry.DroppedBefore), ref outGone);
            }
            if (entry.Line is not null)
            {
                if (entry.Error)
                {
                    Write(_err, entry.Line, ref errGone);
                }
                else
                {
                    Write(_out, entry.Line, ref outGone);
                }
            }

            bool caughtUp;
            lock (_gate)
            {
                if (entry.Line is not null)
                {
                    _heldLines--;
                    _heldBytes -= entry.Bytes;
                }
                caughtUp = _queue.Count == 0;
                if (_waitingProducers > 0)
                {
                    Monitor.PulseAll(_gate);
                }
            }
            if (caughtUp)
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

    /// <summary>Writes everything queued (and a last notice if lines were dropped), then stops. Harmless twice.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
    }

    /// <summary>A queued line (null for a notice alone), its size, and how many lines were dropped just before it.</summary>
    private readonly record struct Entry(bool Error, string? Line, long Bytes, long DroppedBefore);
}
