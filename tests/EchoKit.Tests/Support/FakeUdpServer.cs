using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Udp;

/// <summary>
/// A hand-made UDP "server" on 127.0.0.1:0 that answers as a test says: <c>reply(n, data)</c> gets the datagram's
/// number (from 1) and bytes and returns the answer, or null for none; or <c>respond</c> does it all itself.
/// </summary>
internal sealed class FakeUdpServer : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _countReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private int _received;
    private int _waitFor = int.MaxValue;

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public int Received => Volatile.Read(ref _received);

    public static FakeUdpServer Start(Func<int, byte[], byte[]?>? reply, Func<Socket, byte[], EndPoint, Task>? respond = null)
    {
        var server = new FakeUdpServer();
        server._socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server._loop = server.RunAsync(reply, respond);
        return server;
    }

    /// <summary>Waits until <paramref name="count"/> datagrams have arrived.</summary>
    public async Task WaitForReceivedAsync(int count)
    {
        Volatile.Write(ref _waitFor, count);
        if (Received >= count)
        {
            return;
        }
        await _countReached.Task.WaitAsync(Support.TestTimeouts.Default);
    }

    private async Task RunAsync(Func<int, byte[], byte[]?>? reply, Func<Socket, byte[], EndPoint, Task>? respond)
    {
        var buffer = new byte[70_000];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var n = Interlocked.Increment(ref _received);
                if (n >= Volatile.Read(ref _waitFor))
                {
                    _countReached.TrySetResult();
                }
                var data = buffer.AsSpan(0, result.ReceivedBytes).ToArray();
                if (respond is not null)
                {
                    await respond(_socket, data, result.RemoteEndPoint);
                }
                else if (reply?.Invoke(n, data) is { } answer)
                {
                    await _socket.SendToAsync(answer, SocketFlags.None, result.RemoteEndPoint);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: the test is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        _socket.Dispose();
        _stop.Dispose();
    }
}
