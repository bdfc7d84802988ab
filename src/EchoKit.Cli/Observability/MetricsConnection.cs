using System.Net.Sockets;

namespace EchoKit.Cli.Observability;

/// <summary>
/// One open connection of <see cref="MetricsHttpServer"/>: its socket, its deadline (the header timeout until the
/// request head is in, then the request timeout) and whether it is still sending its head (only such connections
/// may be closed to make room for a newcomer).
/// </summary>
internal sealed class MetricsConnection : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _cancel;
    private volatile bool _headReceived;

    public MetricsConnection(Socket socket, string remote, TimeSpan headerTimeout, TimeProvider time, CancellationToken stopping)
    {
        Socket = socket;
        Remote = remote;
        // Created here, at accept, so the header timeout runs from the moment the connection is taken.
        _deadline = new CancellationTokenSource(headerTimeout, time);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, _deadline.Token);
    }

    public Socket Socket { get; }

    public string Remote { get; }

    /// <summary>Cancelled by the deadline, by the server stopping, or by <see cref="Evict"/>.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>True once the request head has been read: the connection is then being answered.</summary>
    public bool HeadReceived => _headReceived;

    /// <summary>True when <see cref="Evict"/> closed it to make room.</summary>
    public bool Evicted { get; private set; }

    /// <summary>The node of this connection in the server's arrival-ordered list (guarded by the server's lock).</summary>
    public LinkedListNode<MetricsConnection>? Node { get; set; }

    /// <summary>The head is in: from now the request timeout bounds the answer and the lingering close.</summary>
    public void HeadDone(TimeSpan requestTimeout)
    {
        _headReceived = true;
        _deadline.CancelAfter(requestTimeout);
    }

    /// <summary>Ends the connection's wait for its head: the slowest client gives way to a new one.</summary>
    public void Evict()
    {
        Evicted = true;
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished meanwhile: nothing to end.
        }
    }

    public void Dispose()
    {
        _cancel.Dispose();
        _deadline.Dispose();
        Socket.Dispose();
    }
}
