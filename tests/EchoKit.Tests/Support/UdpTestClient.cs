using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Udp;

/// <summary>A test's UDP socket: sends datagrams and awaits answers with a timeout, never sleeping.</summary>
internal sealed class UdpTestClient : IDisposable
{
    public static readonly TimeSpan AnswerTimeout = Support.TestTimeouts.Default;

    private readonly byte[] _buffer = new byte[70_000];

    public UdpTestClient(IPEndPoint bindTo)
    {
        Socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Socket.Bind(bindTo);
    }

    public UdpTestClient(AddressFamily family = AddressFamily.InterNetwork)
        : this(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0))
    {
    }

    public Socket Socket { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)Socket.LocalEndPoint!;

    /// <summary>Tries to bind a client to one of <paramref name="ports"/> on <paramref name="address"/>; null when none is possible.</summary>
    public static UdpTestClient? TryBind(IPAddress address, params int[] ports)
    {
        foreach (var port in ports)
        {
            try
            {
                return new UdpTestClient(new IPEndPoint(address, port));
            }
            catch (SocketException)
            {
                // Taken, or not permitted for this user: try the next one.
            }
        }
        return null;
    }

    public Task SendAsync(ReadOnlyMemory<byte> data, EndPoint to) => Socket.SendToAsync(data, SocketFlags.None, to).AsTask();

    /// <summary>The next datagram and its source; throws <see cref="TimeoutException"/> when none comes in time.</summary>
    public async Task<(byte[] Data, IPEndPoint From)> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? AnswerTimeout);
        try
        {
            var result = await Socket.ReceiveFromAsync(_buffer, SocketFlags.None, new IPEndPoint(Socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), cts.Token);
            return (_buffer.AsSpan(0, result.ReceivedBytes).ToArray(), (IPEndPoint)result.RemoteEndPoint);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no datagram within {(timeout ?? AnswerTimeout).TotalSeconds}s on {LocalEndPoint}");
        }
    }

    /// <summary>Sends <paramref name="data"/> and returns the answer.</summary>
    public async Task<(byte[] Data, IPEndPoint From)> ExchangeAsync(byte[] data, EndPoint to)
    {
        await SendAsync(data, to);
        return await ReceiveAsync();
    }

    public void Dispose() => Socket.Dispose();
}
