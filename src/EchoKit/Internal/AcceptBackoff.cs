namespace EchoKit.Internal;

/// <summary>
/// How long an accept loop waits after a failed accept (EMFILE, ENOBUFS...) before trying again: 10 ms, doubling to
/// at most 1 s, back to nothing after a success. A listener never dies of a failed accept; it only slows down.
/// </summary>
internal struct AcceptBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(1);

    private TimeSpan _current;

    /// <summary>An accept succeeded: the next failure starts from the shortest wait again.</summary>
    public void Reset() => _current = TimeSpan.Zero;

    /// <summary>An accept failed: the wait before the next try.</summary>
    public TimeSpan Next()
    {
        _current = _current == TimeSpan.Zero ? First : TimeSpan.FromTicks(Math.Min(_current.Ticks * 2, Max.Ticks));
        return _current;
    }
}
