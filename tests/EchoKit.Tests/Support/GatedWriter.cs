using System.Text;

namespace EchoKit.Tests.Support;

/// <summary>
/// A stdout nobody reads, under the test's control: while the gate is closed, a write waits (as a write to a full pipe
/// or a terminal paused with Ctrl+S does) and <see cref="Held"/> completes; <see cref="Open"/> lets every write through.
/// Keeps the lines written, in order.
/// </summary>
internal sealed class GatedWriter : TextWriter
{
    private readonly ManualResetEventSlim _gate = new(initialState: false);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _lines = [];

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Completes once a write is waiting at the closed gate (the sink's writer thread is stuck in it).</summary>
    public Task Held => _held.Task;

    /// <summary>The lines written so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Open() => _gate.Set();

    public override void WriteLine(string? value)
    {
        if (!_gate.IsSet)
        {
            _held.TrySetResult();
            // Bounded, and then open for good, so that a test that fails before opening the gate ends rather than
            // hanging its sink's writer thread (and the sink's Dispose) line after line.
            if (!_gate.Wait(TestTimeouts.Default))
            {
                _gate.Set();
            }
        }
        lock (_lines)
        {
            _lines.Add(value ?? "");
        }
    }

    public override void Write(char value) => throw new NotSupportedException("the sink writes whole lines");

    protected override void Dispose(bool disposing)
    {
        // The gate is opened, not disposed: a sink's writer thread may still be waiting at it.
        _gate.Set();
        base.Dispose(disposing);
    }
}
