namespace EchoKit.Client.Internal;

/// <summary>
/// A token that is cancelled when nothing has moved for the idle timeout; every chunk sent or received restarts it.
/// With no timeout it never fires.
/// </summary>
internal sealed class IdleTimer : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly TimeSpan? _timeout;

    public IdleTimer(TimeSpan? timeout, TimeProvider time)
    {
        _timeout = timeout;
        _source = timeout is { } t ? new CancellationTokenSource(t, time) : new CancellationTokenSource();
    }

    public CancellationToken Token => _source.Token;

    /// <summary>True once the timeout passed with nothing moving.</summary>
    public bool Fired => _source.IsCancellationRequested;

    /// <summary>Something moved: start the wait again.</summary>
    public void Touch()
    {
        if (_timeout is { } timeout)
        {
            try
            {
                _source.CancelAfter(timeout);
            }
            catch (ObjectDisposedException)
            {
                // A last chunk raced the end of the session: there is nothing left to time.
            }
        }
    }

    public void Dispose() => _source.Dispose();
}
