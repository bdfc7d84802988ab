using System.Net;
using System.Net.Sockets;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Connect;

/// <summary>
/// A one-connection TCP server on 127.0.0.1:0 that runs a test's handler for the connection it accepts.
/// <see cref="Completion"/> is the handler's task (awaited by the test, so a failure in it fails the test).
/// </summary>
internal sealed class TcpTestServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();

    private TcpTestServer(Func<Socket, CancellationToken, Task> handler)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        Completion = RunAsync(handler);
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public Task Completion { get; }

    public static TcpTestServer Start(Func<Socket, CancellationToken, Task> handler) => new(handler);

    /// <summary>Echoes every byte until the client half-closes, then closes.</summary>
    public static TcpTestServer StartEcho() => Start(async (socket, token) =>
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, token)) > 0)
        {
            await SendAllAsync(socket, buffer.AsMemory(0, read), token);
        }
        socket.Shutdown(SocketShutdown.Both);
    });

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, token)..];
        }
    }

    private async Task RunAsync(Func<Socket, CancellationToken, Task> handler)
    {
        using var client = await _listener.AcceptAsync(_stop.Token);
        await handler(client, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await Completion.WaitAsync(TestTimeouts.Short);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The test already checked what it needed; a handler stopped by disposal ends this way.
        }
        _stop.Dispose();
    }
}
