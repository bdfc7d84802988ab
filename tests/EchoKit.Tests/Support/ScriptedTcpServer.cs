using System.Net.Sockets;
using EchoKit.Testing;

namespace EchoKit.Tests.Support;

/// <summary>
/// A peer that follows a test's script on the first connection it accepts, on the fake-server kit's
/// <see cref="MisbehavingTcpServer.Custom"/>. <see cref="Completion"/> is the script's outcome, awaited by the test
/// so that a failure in the script (unexpected bytes, an early close) fails the test.
/// </summary>
internal sealed class ScriptedTcpServer : IAsyncDisposable
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MisbehavingTcpServer _server;
    private int _accepted;

    private ScriptedTcpServer(Func<Socket, CancellationToken, Task> script)
    {
        _server = MisbehavingTcpServer.Custom(async (socket, stop) =>
        {
            if (Interlocked.Increment(ref _accepted) != 1)
            {
                return; // one connection is scripted; a second one is closed at once
            }
            try
            {
                await script(socket, stop);
                _done.TrySetResult();
            }
            catch (Exception ex)
            {
                // The outcome is the test's to judge, through Completion; the kit only closes the connection.
                _done.TrySetException(ex);
            }
        });
    }

    public int Port => _server.Port;

    public string Endpoint => $"127.0.0.1:{Port}";

    public Task Completion => _done.Task;

    public static ScriptedTcpServer Start(Func<Socket, CancellationToken, Task> script) => new(script);

    /// <summary>Echoes every byte until the client half-closes, then closes.</summary>
    public static ScriptedTcpServer StartEcho() => Start(async (socket, token) =>
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, token)) > 0)
        {
            await SocketIo.SendAllAsync(socket, buffer.AsMemory(0, read), token);
        }
        socket.Shutdown(SocketShutdown.Both);
    });

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
