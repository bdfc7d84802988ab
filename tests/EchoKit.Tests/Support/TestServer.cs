using System.Net;
using System.Net.Sockets;
using EchoKit.Server;

namespace EchoKit.Tests.Support;

/// <summary>An in-process echo server on an ephemeral loopback port, stopped at dispose.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(EchoServer server) => Server = server;

    public EchoServer Server { get; }

    public int Port => Server.Listeners[0].Port;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public static Task<TestServer> StartAsync(Action<EchoServerOptions>? configure = null, string endpoint = "127.0.0.1:0", TimeProvider? time = null) =>
        StartAsync(ServerEngine.Auto, configure, endpoint, time);

    /// <summary>A server whose TCP listener runs on <paramref name="engine"/> (the engine selector of the shared suites).</summary>
    public static async Task<TestServer> StartAsync(ServerEngine engine, Action<EchoServerOptions>? configure = null, string endpoint = "127.0.0.1:0", TimeProvider? time = null)
    {
        var options = new EchoServerOptions { Engine = engine };
        options.Endpoints.Add(ListenEndpoint.Tcp(endpoint));
        configure?.Invoke(options);
        var server = new EchoServer(options, timeProvider: time);
        await server.StartAsync(TestTimeouts.Token());
        return new TestServer(server);
    }

    public async Task<Socket> ConnectAsync(IPAddress? address = null)
    {
        var target = new IPEndPoint(address ?? IPAddress.Loopback, Port);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(target, TestTimeouts.Token());
        return socket;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
