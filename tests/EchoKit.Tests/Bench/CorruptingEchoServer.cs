using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Bench;

/// <summary>A TCP echo server that echoes everything but flips one bit of the byte at <c>corruptAt</c> of each connection's stream.</summary>
internal sealed class CorruptingEchoServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly long _corruptAt;
    private readonly List<Task> _connections = [];
    private readonly Task _accept;

    public CorruptingEchoServer(long corruptAt)
    {
        _corruptAt = corruptAt;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                lock (_connections)
                {
                    _connections.Add(EchoAsync(socket));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[4096];
            long offset = 0;
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    if (_corruptAt >= offset && _corruptAt < offset + n)
                    {
                        buffer[_corruptAt - offset] ^= 0x01;
                    }
                    offset += n;
                    for (var sent = 0; sent < n;)
                    {
                        sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // The bench closed the connection, or the test is over.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accept;
        Task[] open;
        lock (_connections)
        {
            open = _connections.ToArray();
        }
        await Task.WhenAll(open);
        _stop.Dispose();
    }
}
