using EchoKit.Internal.Linux;

namespace EchoKit.Bench.Internal;

/// <summary>
/// One load connection's state, owned by one <see cref="TcpWorker"/>. Plain fields: only that worker's thread touches
/// them. Registered with the worker's <see cref="EventLoop"/>, it hands its readiness reports to the worker.
/// </summary>
internal sealed class TcpConnection : IEventLoopHandler
{
    private readonly TcpWorker _worker;

    public TcpConnection(TcpWorker worker, int index, int seed, int pipeline, bool stamps)
    {
        _worker = worker;
        Index = index;
        Seed = seed;
        // A power-of-two ring, indexed with a mask rather than a division: at most `pipeline` messages are in flight.
        Stamps = stamps ? new long[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)pipeline)] : [];
        StampMask = Math.Max(0, Stamps.Length - 1);
    }

    /// <summary>Position among the worker's connections (its turn in a rate schedule).</summary>
    public int Index { get; }

    /// <summary>Where this connection's stream starts in the pattern.</summary>
    public int Seed { get; }

    /// <summary>Send times of the messages in flight, at message number &amp; <see cref="StampMask"/> (closed loop only).</summary>
    public long[] Stamps { get; }

    public int StampMask { get; }

    public int Fd = -1;
    public int Token = -1;   // the loop's registration of Fd, or -1
    public TcpConnectionState State;
    public bool OutArmed;

    /// <summary>Bytes sent, bytes received back (each counted from the connection's start).</summary>
    public long Sent;
    public long Received;

    /// <summary>Messages started (their bytes may not all be sent yet), stamped (first byte sent), and completed.</summary>
    public long Launched;
    public long Stamped;
    public long Done;

    /// <summary>Rate mode: messages the schedule allows so far, and the schedule slot of this stream's first message.</summary>
    public long Allowed;
    public long RateBase;

    public long ConnectStartTicks;
    public long OpenedTicks;
    public long RetryAtTicks;
    public long BackoffTicks;

    /// <summary>Forgets the stream after the connection closed: a new connection starts a new stream.</summary>
    public void ResetStream()
    {
        Sent = Received = Launched = Stamped = Done = Allowed = 0;
        OutArmed = false;
    }

    /// <remarks>Nothing is posted to a load connection (the worker's thread is the only one that touches it), so it keeps the handler's default OnCommand.</remarks>
    public void OnEvents(uint events) => _worker.OnEvents(this, events);
}
