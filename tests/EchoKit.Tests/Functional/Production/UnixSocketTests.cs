using System.Net.Sockets;
using EchoKit.Server;
using EchoKit.Testing;
using EchoKit.Tests.Support;

namespace EchoKit.Tests.Production;

/// <remarks>Runs once per server engine: see Support/EngineSuites.cs.</remarks>
[Trait("Kind", "Functional")]
public abstract class UnixSocketTests(ServerEngine engine) : IDisposable
{
    /// <summary>The engine under test.</summary>
    protected ServerEngine Engine { get; } = engine;

    private EchoServerOptions WithEngine(EchoServerOptions options)
    {
        options.Engine = Engine;
        return options;
    }

    private readonly string _path = TestServer.UnixPath();

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);

    private static EchoServerOptions Unix(string path, UnixFileMode? mode = null)
    {
        var options = new EchoServerOptions();
        options.Endpoints.Add(ListenEndpoint.Unix(path, mode));
        return options;
    }

    [Fact]
    public async Task ServerEchoesOverAUnixSocket()
    {
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Unix(_path), logs);
        var listener = server.Listeners[0];
        Assert.Equal(ListenProtocol.Unix, listener.Protocol);
        Assert.Equal($"unix://{_path}", listener.Uri);

        using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        var payload = new byte[200_000];
        Random.Shared.NextBytes(payload);
        Assert.Equal(payload, await TestClients.EchoAsync(client, payload));
        client.Shutdown(SocketShutdown.Send);
        Assert.True(await TestClients.ClosedWithoutDataAsync(client));

        var opened = await logs.WaitForAsync("ConnectionOpened");
        Assert.Equal(listener.Uri, opened.Field("Listener"));
        Assert.StartsWith($"unix:pid={Environment.ProcessId},uid=", opened.Field("Remote"));
        var closed = await logs.WaitForAsync("ConnectionClosed");
        Assert.Equal("closed by peer", closed.Field("Reason"));
        Assert.Equal(200_000L, closed.Fields["BytesOut"]);
    }

    [Fact]
    public async Task ServerRemovesItsSocketFileOnStop()
    {
        var server = await TestServer.StartServerAsync(Engine, Unix(_path), TestServer.Logs());
        Assert.True(File.Exists(_path));
        await server.StopAsync();
        Assert.False(File.Exists(_path));
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ServerLeavesARegularFileThatTookThePlaceOfItsSocket()
    {
        var server = await TestServer.StartServerAsync(Engine, Unix(_path), TestServer.Logs());
        File.Delete(_path);
        File.WriteAllText(_path, "precious data");

        await server.StopAsync();
        await server.DisposeAsync();
        Assert.Equal("precious data", File.ReadAllText(_path));
    }

    [Fact]
    public async Task DrainingServerDoesNotRemoveTheSocketOfTheServerThatTookItsPath()
    {
        // A rolling restart: the old server drains a client while the new one listens on the same path.
        var oldLogs = TestServer.Logs();
        var old = await TestServer.StartServerAsync(Engine, Unix(_path), oldLogs);
        var lingering = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        Assert.Equal("old"u8.ToArray(), await TestClients.EchoAsync(lingering, "old"u8.ToArray()));
        var draining = old.StopAsync();
        await oldLogs.WaitForAsync("ShutdownStarted");
        Assert.False(File.Exists(_path), "a stopping server removes its socket file at once");

        await using var successor = await TestServer.StartServerAsync(Engine, Unix(_path), TestServer.Logs());
        lingering.Dispose();
        await draining.WaitAsync(TestTimeouts.Token());
        await old.DisposeAsync();

        Assert.True(File.Exists(_path), "the successor's socket file is still there");
        using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        Assert.Equal("new"u8.ToArray(), await TestClients.EchoAsync(client, "new"u8.ToArray()));
    }

    [Fact]
    public async Task ClientIsNamedByItsCredentialsNotByTheNameItBound()
    {
        // Any local user can bind its client socket to a name that reads like someone else's credentials. (The
        // server's path is the longer one here, so this test does not depend on clients with longer names being served.)
        var path = Path.Combine(Path.GetDirectoryName(_path)!, "a-server-path-longer-than-the-client-name.sock");
        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Unix(path), logs);
        var impostor = Path.Combine(Path.GetDirectoryName(_path)!, "pid=1,uid=0");
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Bind(new UnixDomainSocketEndPoint(impostor));
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path), TestTimeouts.Token());
        Assert.Equal("hi"u8.ToArray(), await TestClients.EchoAsync(client, "hi"u8.ToArray()));

        var remote = (await logs.WaitForAsync("ConnectionOpened")).Field("Remote");
        Assert.Matches($"^unix:pid={Environment.ProcessId},uid=[0-9]+$", remote);
    }

    [Fact]
    public async Task ServerReplacesAStaleSocketFile()
    {
        // A crashed server leaves its socket file behind. .NET unlinks the path it bound on dispose, so bind
        // elsewhere and move the socket file into place: the file stays, with nothing listening on it.
        var elsewhere = _path + ".old";
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(elsewhere));
            dead.Listen();
            File.Move(elsewhere, _path);
        }
        Assert.True(File.Exists(_path));

        var logs = TestServer.Logs();
        await using var server = await TestServer.StartServerAsync(Engine, Unix(_path), logs);
        Assert.Single(logs.Named("UnixSocketReplaced"));
        using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        Assert.Equal("fresh"u8.ToArray(), await TestClients.EchoAsync(client, "fresh"u8.ToArray()));
    }

    [Fact]
    public async Task ServerDoesNotReplaceASocketSomeoneListensOn()
    {
        await using var first = await TestServer.StartServerAsync(Engine, Unix(_path), TestServer.Logs());
        var second = new EchoServer(WithEngine(Unix(_path)), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => second.StartAsync(CancellationToken.None));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketError);
        Assert.Contains("another server is listening on it", ex.Message);

        // The first server still owns and serves the path.
        Assert.True(File.Exists(_path));
        using var client = await TestClients.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        Assert.Equal("mine"u8.ToArray(), await TestClients.EchoAsync(client, "mine"u8.ToArray()));
    }

    [Fact]
    public async Task ServerDoesNotReplaceARegularFile()
    {
        File.WriteAllText(_path, "precious data");
        var server = new EchoServer(WithEngine(Unix(_path)), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(CancellationToken.None));
        Assert.Contains("is not a socket", ex.Message);
        Assert.Equal("precious data", File.ReadAllText(_path));
    }

    [Fact]
    public async Task ServerDoesNotReplaceAnEmptyRegularFile()
    {
        // connect() to a regular file is refused just as to a dead socket: only the file's type says it is no socket.
        File.WriteAllBytes(_path, []);
        var logs = TestServer.Logs();
        var server = new EchoServer(WithEngine(Unix(_path)), logs);
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal($"cannot listen on unix://{_path}: '{_path}' exists and is not a socket", ex.Message);
        Assert.True(File.Exists(_path));
        Assert.Empty(logs.Named("UnixSocketReplaced"));
    }

    [Fact]
    public async Task DirectoryAtThePathIsNamedInTheBindError()
    {
        Directory.CreateDirectory(_path);
        var server = new EchoServer(WithEngine(Unix(_path)), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal($"cannot listen on unix://{_path}: '{_path}' is a directory", ex.Message);
        Assert.True(Directory.Exists(_path));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ServerSetsTheSocketFileMode()
    {
        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite; // 660
        await using var server = await TestServer.StartServerAsync(Engine, Unix(_path, mode), TestServer.Logs());
        Assert.Equal(mode, File.GetUnixFileMode(_path));
    }

    [Fact]
    public async Task MissingDirectoryIsNamedInTheBindError()
    {
        var path = Path.Combine(Path.GetDirectoryName(_path)!, "missing", "echo.sock");
        var server = new EchoServer(WithEngine(Unix(path)), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal($"cannot listen on unix://{path}: no such directory: '{Path.GetDirectoryName(path)}'", ex.Message);
    }

    [Fact]
    public async Task DirectoryThatTakesNoNewFilesIsNamedInTheBindError()
    {
        // /proc exists, yet bind() there fails with ENOENT, which .NET reports as "address not available".
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        const string path = "/proc/echokit-test.sock";
        var server = new EchoServer(WithEngine(Unix(path)), TestServer.Logs());
        var ex = await Assert.ThrowsAsync<ListenerBindException>(() => server.StartAsync(CancellationToken.None));
        Assert.Equal($"cannot listen on unix://{path}: cannot create a file in '/proc' (no such file or directory)", ex.Message);
    }
}
