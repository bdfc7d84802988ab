using EchoKit.Server;

namespace EchoKit.Tests.Production;

/// <summary>Starts servers for tests, and temp paths for Unix sockets.</summary>
public static class TestServers
{
    public static async Task<EchoServer> StartAsync(EchoServerOptions options, CapturingLoggerFactory logs, TimeProvider? time = null)
    {
        var server = new EchoServer(options, logs, time);
        await server.StartAsync(CancellationToken.None).WaitAsync(TestClients.Timeout);
        return server;
    }

    /// <summary>Starts <paramref name="options"/> with its stream listeners on <paramref name="engine"/>.</summary>
    public static Task<EchoServer> StartAsync(ServerEngine engine, EchoServerOptions options, CapturingLoggerFactory logs, TimeProvider? time = null)
    {
        options.Engine = engine;
        return StartAsync(options, logs, time);
    }

    public static EchoServerOptions Tcp(string endpoint = "127.0.0.1:0")
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Tcp(endpoint));
        return options;
    }

    /// <summary>A fresh path for a Unix socket, short enough for sun_path, in a directory removed by the caller.</summary>
    public static string UnixPath(string name = "echo.sock")
    {
        var directory = Directory.CreateTempSubdirectory("ek-").FullName;
        return Path.Combine(directory, name);
    }
}
