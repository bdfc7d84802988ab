using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Support;

/// <summary>A misbehaving TCP server for client tests: it runs <c>handler</c> for each accepted client.</summary>
internal sealed class FakeServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _loop;
    private readonly List<Task> _clients = [];
    private readonly CancellationTokenSource _stop = new();

    public FakeServer(Func<Socket, CancellationToken, Task> handler)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        _loop = AcceptAsync(handler);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    private async Task AcceptAsync(Func<Socket, CancellationToken, Task> handler)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // disposed: the test is over
            }
            lock (_clients)
            {
                _clients.Add(Serve(client, handler, _stop.Token));
            }
        }
    }

    private static async Task Serve(Socket client, Func<Socket, CancellationToken, Task> handler, CancellationToken stop)
    {
        using (client)
        {
            try
            {
                await handler(client, stop);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The client under test went away: that is what these tests provoke.
            }
        }
    }

    /// <summary>Echoes, but changes the byte at <paramref name="offset"/>.</summary>
    public static FakeServer Corrupting(long offset) => new(async (client, stop) =>
    {
        var buffer = new byte[4096];
        long position = 0;
        while (await client.ReceiveAsync(buffer) is var read and > 0)
        {
            if (offset >= position && offset < position + read)
            {
                buffer[offset - position] ^= 0xFF;
            }
            position += read;
            await client.SendAsync(buffer.AsMemory(0, read));
        }
    });

    /// <summary>
    /// Echoes every chunk it reads exactly <paramref name="delay"/> after reading it, never earlier: a server whose
    /// latency is known, the ground truth for a load generator's clock (with one message in flight per connection,
    /// each message's true round trip is at least <paramref name="delay"/>).
    /// </summary>
    public static FakeServer Delaying(TimeSpan delay) => new(async (client, stop) =>
    {
        var buffer = new byte[64 * 1024];
        while (await client.ReceiveAsync(buffer, stop) is var read and > 0)
        {
            var arrived = System.Diagnostics.Stopwatch.GetTimestamp();
            await Task.Delay(delay, stop);
            while (System.Diagnostics.Stopwatch.GetElapsedTime(arrived) < delay)
            {
                await Task.Yield(); // a timer may fire a hair early: hold until the full delay has passed
            }
            await client.SendAsync(buffer.AsMemory(0, read), stop);
        }
    });

    /// <summary>Echoes the first <paramref name="count"/> bytes, then closes.</summary>
    public static FakeServer ClosingAfter(int count) => new(async (client, stop) =>
    {
        var buffer = new byte[count];
        var got = 0;
        while (got < count && await client.ReceiveAsync(buffer.AsMemory(got)) is var read and > 0)
        {
            got += read;
        }
        await client.SendAsync(buffer.AsMemory(0, got));
        client.Shutdown(SocketShutdown.Both);
    });

    /// <summary>Accepts and reads, never answers, never closes.</summary>
    public static FakeServer Silent() => new(async (client, stop) =>
    {
        var buffer = new byte[4096];
        while (await client.ReceiveAsync(buffer, stop) > 0)
        {
        }
        await Task.Delay(Timeout.Infinite, stop);
    });

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _loop;
        Task[] clients;
        lock (_clients)
        {
            clients = _clients.ToArray();
        }
        await Task.WhenAll(clients).WaitAsync(TestTimeouts.Default);
    }
}
