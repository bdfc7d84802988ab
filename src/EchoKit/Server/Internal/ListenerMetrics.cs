namespace EchoKit.Server.Internal;

/// <summary>
/// One listener's share of <see cref="ServerInstruments"/>. Hot-path totals (bytes, datagrams, open connections)
/// are <see cref="Interlocked"/> sums read at collection time; per-connection events are recorded at once. Every
/// call is allocation-free: the tags are a struct built on the stack around strings made once per listener.
/// </summary>
internal sealed class ListenerMetrics
{
    // Close reasons as tag values, made once: an enum value added later gets its snake-case name automatically.
    private static readonly Dictionary<ConnectionCloseReason, string> CloseReasonTags =
        Enum.GetValues<ConnectionCloseReason>().ToDictionary(r => r, r => SnakeCase(r.ToString()));

    private readonly ServerInstruments _instruments;
    private readonly Lock _cellsLock = new();
    private StreamCounterCell[] _cells = [];
    private long _active;
    private long _bytesReceived;
    private long _bytesSent;
    private long _datagramsAnswered;
    private long _droppedDenied;
    private long _droppedRateLimited;
    private long _droppedTooLarge;
    private long _droppedSendFailed;

    public ListenerMetrics(ServerInstruments instruments, string listenerUri)
    {
        _instruments = instruments;
        Listener = listenerUri;
        ListenerTag = new KeyValuePair<string, object?>(EchoServerMetrics.ListenerTag, listenerUri);
        // A zero now, so the listener's accepted series exists (and rates work) before its first client.
        instruments.Accepted.Add(0, ListenerTag);
    }

    /// <summary>The listener's URI, the value of the <c>listener</c> tag.</summary>
    public string Listener { get; }

    public KeyValuePair<string, object?> ListenerTag { get; }

    public long Active => Volatile.Read(ref _active);

    /// <summary>
    /// For a UDP listener: its own per-loop counters, summed when an exporter collects (the receive loops count
    /// without any shared write, so the totals are read from them rather than pushed here).
    /// </summary>
    public Func<UdpCounterSnapshot>? Udp { get; set; }

    public long BytesReceived
    {
        get
        {
            var total = Volatile.Read(ref _bytesReceived) + (Udp?.Invoke().BytesReceived ?? 0);
            foreach (var cell in Volatile.Read(ref _cells))
            {
                total += Volatile.Read(ref cell.Values.BytesReceived);
            }
            return total;
        }
    }

    public long BytesSent
    {
        get
        {
            var total = Volatile.Read(ref _bytesSent) + (Udp?.Invoke().BytesSent ?? 0);
            foreach (var cell in Volatile.Read(ref _cells))
            {
                total += Volatile.Read(ref cell.Values.BytesSent);
            }
            return total;
        }
    }

    /// <summary>
    /// A counter cell for one epoll loop: the loop adds its connections' bytes there with plain writes, and the
    /// totals above sum the cells when read. Called once per loop and listener.
    /// </summary>
    public StreamCounterCell AddCell()
    {
        var cell = new StreamCounterCell();
        lock (_cellsLock)
        {
            _cells = [.. _cells, cell];
        }
        return cell;
    }

    public long DatagramsAnswered => Volatile.Read(ref _datagramsAnswered) + (Udp?.Invoke().DatagramsAnswered ?? 0);

    /// <summary>Datagrams not answered, by reason (the <c>EchoServerMetrics.Drop*</c> values).</summary>
    public IEnumerable<(string Reason, long Count)> DatagramsDropped()
    {
        var udp = Udp?.Invoke();
        yield return (EchoServerMetrics.DropDenied, Volatile.Read(ref _droppedDenied) + (udp?.DroppedByRule ?? 0));
        yield return (EchoServerMetrics.DropRateLimited, Volatile.Read(ref _droppedRateLimited) + (udp?.DroppedByRate ?? 0));
        yield return (EchoServerMetrics.DropTooLarge, Volatile.Read(ref _droppedTooLarge));
        yield return (EchoServerMetrics.DropSendFailed, Volatile.Read(ref _droppedSendFailed) + (udp?.SendErrors ?? 0));
    }

    /// <summary>A connection was taken on: counts it as accepted and open.</summary>
    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _active);
        _instruments.Accepted.Add(1, ListenerTag);
    }

    /// <summary>A connection counted by <see cref="ConnectionOpened"/> ended: no longer open; its lifetime is recorded.</summary>
    public void ConnectionClosed(ConnectionCloseReason reason, TimeSpan lifetime)
    {
        Interlocked.Decrement(ref _active);
        var reasonTag = CloseReasonTags.TryGetValue(reason, out var name) ? name : "error";
        _instruments.Duration.Record(lifetime.TotalSeconds, ListenerTag, new KeyValuePair<string, object?>(EchoServerMetrics.ReasonTag, reasonTag));
    }

    /// <summary>A connection was refused by policy; <paramref name="reason"/> is one of the <c>EchoServerMetrics.Reject*</c> values.</summary>
    public void ConnectionRejected(string reason) =>
        _instruments.Rejected.Add(1, ListenerTag, new KeyValuePair<string, object?>(EchoServerMetrics.ReasonTag, reason));

    /// <summary>Bytes read from a client; call once per read batch, not per byte.</summary>
    public void AddReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    /// <summary>Bytes sent back to a client.</summary>
    public void AddSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    /// <summary>A datagram was echoed back (its bytes go through <see cref="AddReceived"/> and <see cref="AddSent"/>).</summary>
    public void DatagramAnswered() => Interlocked.Increment(ref _datagramsAnswered);

    /// <summary>A datagram was not answered; <paramref name="reason"/> is one of the <c>EchoServerMetrics.Drop*</c> values.</summary>
    public void DatagramDropped(string reason)
    {
        switch (reason)
        {
            case EchoServerMetrics.DropDenied: Interlocked.Increment(ref _droppedDenied); break;
            case EchoServerMetrics.DropRateLimited: Interlocked.Increment(ref _droppedRateLimited); break;
            case EchoServerMetrics.DropTooLarge: Interlocked.Increment(ref _droppedTooLarge); break;
            case EchoServerMetrics.DropSendFailed: Interlocked.Increment(ref _droppedSendFailed); break;
            default: throw new ArgumentOutOfRangeException(nameof(reason), reason, "not a datagram drop reason");
        }
    }

    /// <summary>A reflect request was dealt with; <paramref name="result"/> is one of the <c>EchoServerMetrics.Reflect*</c> results.</summary>
    public void ReflectRequest(string result) =>
        _instruments.ReflectRequests.Add(1, ListenerTag, new KeyValuePair<string, object?>(EchoServerMetrics.ResultTag, result));

    /// <summary>A TLS handshake failed or timed out.</summary>
    public void TlsHandshakeFailed(string reason) =>
        _instruments.TlsFailures.Add(1, ListenerTag, new KeyValuePair<string, object?>(EchoServerMetrics.ReasonTag, reason));

    private static string SnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }
}
