namespace EchoKit.Bench.Internal;

/// <summary>One load connection's state, owned by one <see cref="TcpWorker"/>. Plain fields: only that worker's thread touches them.</summary>
internal sealed class TcpConnection
{
    public TcpConnection(int index, int seed, int pipeline, bool stamps)
    {
        Index = index;
        Seed = seed;
        // A power-of-two ring, indexed with a mask rather than a division: at most `pipeline` messages are in flight.
        Stamps = stamps ? new long[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)pipeline)] : [];
        StampMask = Math.Max(0, Stamps.Length - 1);
    }

    /// <summary>Position among the worker's connections (the epoll data word).</summary>
    public int Index { get; }

    /// <summary>Where this connection's stream starts in the pattern.</summary>
    public int Seed { get; }

    /// <summary>Send times of the messages in flight, at message number &amp; <see cref="StampMask"/> (closed loop only).</summary>
    public long[] Stamps { get; }

    public int StampMask { get; }

    public int Fd = -1;
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
}
