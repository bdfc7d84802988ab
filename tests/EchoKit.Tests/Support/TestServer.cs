using System.Net;
using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Testing;

namespace EchoKit.Tests.Support;

/// <summary>
/// The tests' defaults for the one test server, EchoKit.Testing's <see cref="EchoTestServer"/> (so the suite also
/// proves the shipped package): the engine under test, a loopback endpoint on port 0, a start bounded by
/// <see cref="TestTimeouts"/>, and a log capture that waits as long as every other wait here.
/// </summary>
internal static class TestServer
{
    public static Task<EchoTestServer> StartAsync(Action<EchoServerOptions>? configure = null, string endpoint = "127.0.0.1:0", TimeProvider? time = null) =>
        StartAsync(ServerEngine.Auto, configure, endpoint, time);

    /// <summary>A TCP server whose listener runs on <paramref name="engine"/> (the engine selector of the shared suites).</summary>
    public static Task<EchoTestServer> StartAsync(ServerEngine engine, Action<EchoServerOptions>? configure = null, string endpoint = "127.0.0.1:0", TimeProvider? time = null)
    {
        var options = new EchoServerOptions { Engine = engine };
        options.Endpoints.Add(ListenEndpoint.Tcp(endpoint));
        configure?.Invoke(options);
        return EchoTestServer.StartWithOptionsAsync(options, Logs(), time, TestTimeouts.Token());
    }

    /// <summary>A server with UDP listeners on <paramref name="endpoints"/> (127.0.0.1:0 when none).</summary>
    public static Task<EchoTestServer> StartUdpAsync(Action<EchoServerOptions>? configure = null, LogCapture? logs = null, TimeProvider? time = null, params string[] endpoints)
    {
        var options = new EchoServerOptions();
        foreach (var endpoint in endpoints.Length == 0 ? ["127.0.0.1:0"] : endpoints)
        {
            options.Endpoints.Add(ListenEndpoint.Udp(endpoint));
        }
        configure?.Invoke(options);
        return EchoTestServer.StartWithOptionsAsync(options, logs ?? Logs(), time, TestTimeouts.Token());
    }

    /// <summary>Starts <paramref name="options"/> as they are, logging into <paramref name="logs"/>; the test holds the server itself.</summary>
    public static async Task<EchoServer> StartServerAsync(EchoServerOptions options, LogCapture? logs = null, TimeProvider? time = null) =>
        (await EchoTestServer.StartWithOptionsAsync(options, logs ?? Logs(), time, TestTimeouts.Token())).Server;

    /// <summary>Starts <paramref name="options"/> with its stream listeners on <paramref name="engine"/>.</summary>
    public static Task<EchoServer> StartServerAsync(ServerEngine engine, EchoServerOptions options, LogCapture? logs = null, TimeProvider? time = null)
    {
        options.Engine = engine;
        return StartServerAsync(options, logs, time);
    }

    /// <summary>A log capture whose waits follow <see cref="TestTimeouts.Default"/>.</summary>
    public static LogCapture Logs() => new() { WaitTimeout = TestTimeouts.Default };

    /// <summary>Settings with one TCP endpoint, for tests that add TLS, PROXY or limits before starting.</summary>
    public static EchoServerOptions Tcp(string endpoint = "127.0.0.1:0")
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp(endpoint));
        return options;
    }

    /// <summary>The first listener as <c>127.0.0.1:port</c>, the form the CLI and the bench take.</summary>
    public static string Address(EchoServer server) => $"127.0.0.1:{server.Listeners[0].Port}";

    /// <summary>A fresh path for a Unix socket, short enough for sun_path, in a directory removed by the caller.</summary>
    public static string UnixPath(string name = "echo.sock")
    {
        var directory = Directory.CreateTempSubdirectory("ek-").FullName;
        return Path.Combine(directory, name);
    }

    /// <summary>A connected TCP client socket (no Nagle) to the server's first listener.</summary>
    public static async Task<Socket> ConnectAsync(this EchoTestServer server, IPAddress? address = null)
    {
        var target = new IPEndPoint(address ?? IPAddress.Loopback, server.Port);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(target, TestTimeouts.Token());
        return socket;
    }

    /// <summary>The UDP listener <paramref name="index"/>'s port on an address the client can send to (the wildcard becomes <paramref name="loopback"/>).</summary>
    public static IPEndPoint Target(this EchoTestServer server, IPAddress loopback, int index = 0) =>
        new(loopback, ((IPEndPoint)server.Server.Listeners[index].EndPoint).Port);
}
