using EchoKit.Tests.Support;

namespace EchoKit.Tests.Lab;

/// <summary>
/// One namespace lab built by bench/lab/netlab.sh (the script the docs use too): client, router and server
/// namespaces, with the router's knobs given to <see cref="UpAsync"/>. Disposing it ends every program started in it
/// and removes its namespaces, whatever happened.
/// </summary>
internal sealed class NetLab : IAsyncDisposable
{
    /// <summary>Inside a lab's own namespaces nothing else binds: the reflect service uses one fixed port, for TCP and UDP alike.</summary>
    public const int ReflectPort = 7007;

    private static readonly Lazy<string?> Script = new(FindScript);
    private static readonly Lazy<string?> Unavailable = new(CheckAsync);

    private readonly List<EchokitProcess> _processes = [];
    private readonly Dictionary<string, string> _values;

    private NetLab(Dictionary<string, string> values) => _values = values;

    /// <summary>Why no lab can be built here (not root, no nftables, namespaces refused), or null when one can.</summary>
    public static string? SkipReason => Unavailable.Value;

    public string Id => _values["LAB"];

    public string ServerIp => _values["SERVER_IP"];

    public string RouterServerIp => _values["ROUTER_SERVER_IP"];

    public string ClientIp => _values["CLIENT_IP"];

    /// <summary>The server's IPv6 address, in a lab built with <c>--ipv6</c>.</summary>
    public string ServerIp6 => _values["SERVER_IP6"];

    public string Vip => _values["VIP"];

    /// <summary>Builds a lab with <paramref name="knobs"/> (see the script's header).</summary>
    public static async Task<NetLab> UpAsync(params string[] knobs)
    {
        var (code, stdout, stderr) = await RunScriptAsync(["up", .. knobs]);
        Assert.True(code == 0, $"netlab.sh up {string.Join(' ', knobs)} failed ({code}): {stderr}");
        var values = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1].Trim());
        return new NetLab(values);
    }

    /// <summary>The command prefix that runs a program in <paramref name="role"/>'s namespace.</summary>
    public IReadOnlyList<string> In(string role) => ["ip", "netns", "exec", $"{Id}-{role}"];

    /// <summary>Starts <c>echokit serve</c> with reflect listeners in <paramref name="role"/>'s namespace and waits until it listens.</summary>
    public async Task StartReflectServerAsync(string role = "server", string? instance = null)
    {
        string[] args = ["serve", "--reflect-tcp", $":{ReflectPort}", "--reflect-udp", $":{ReflectPort}"];
        if (instance is not null)
        {
            args = [.. args, "--instance-id", instance];
        }
        var server = EchokitProcess.StartWrapped(In(role), args);
        _processes.Add(server);
        await server.WaitForListenersAsync(2);
    }

    /// <summary>
    /// Starts <c>echokit ARGS</c> in <paramref name="role"/>'s namespace, ended at dispose with the lab; the caller
    /// waits for what it needs (e.g. its listening lines).
    /// </summary>
    public EchokitProcess Start(string role, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var process = EchokitProcess.StartWrapped(In(role), args, timeout);
        _processes.Add(process);
        return process;
    }

    /// <summary>Changes the running lab (<c>netlab.sh set ID HOOK ARGS</c>: loss, rate, link); fails the test if it cannot.</summary>
    public async Task SetAsync(params string[] hook)
    {
        var (code, _, stderr) = await RunScriptAsync(["set", Id, .. hook]);
        Assert.True(code == 0, $"netlab.sh set {string.Join(' ', hook)} failed ({code}): {stderr}");
    }

    /// <summary>Runs <c>echokit ARGS</c> in the client namespace to its end.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunClientAsync(TimeSpan timeout, params string[] args) =>
        EchokitProcess.RunWrappedAsync(In("client"), args, timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        await RunScriptAsync(["down", Id]);
    }

    private static string? CheckAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the namespace lab needs Linux";
        }
        if (Script.Value is null)
        {
            return "bench/lab/netlab.sh not found above the test directory";
        }
        var (code, _, stderr) = RunScriptAsync(["check"]).GetAwaiter().GetResult();
        return code switch
        {
            0 => null,
            77 => stderr.Trim(),
            _ => $"netlab.sh check failed ({code}): {stderr.Trim()}",
        };
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "bench", "lab", "netlab.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunScriptAsync(IEnumerable<string> args) =>
        EchokitProcess.RunProgramAsync("bash", [Script.Value ?? throw new InvalidOperationException("netlab.sh not found"), .. args], TestTimeouts.Default);
}
