using System.CommandLine;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using EchoKit.Server;

namespace EchoKit.Cli.Commands;

/// <summary>The UDP options of <c>echokit serve</c>: listeners and the settings of <see cref="UdpOptions"/>.</summary>
internal static class UdpServeOptions
{
    private static readonly UdpOptions Defaults = new();

    private static readonly Option<EndpointSpec[]> Udp = CliOptions.Endpoints("--udp",
        "Listen for UDP on ENDPOINT (same forms as --tcp; :PORT is IPv4 and IPv6; repeatable). Echoes each datagram to its source (RFC 862).");
    private static readonly Option<int> Buffer = CliOptions.Size("--udp-buffer",
        $"UDP socket receive and send buffer in bytes (0 = system default). Default {Defaults.SocketBufferSize}; the kernel caps it at net.core.rmem_max without CAP_NET_ADMIN.",
        Defaults.SocketBufferSize, 0, 1024 * 1024 * 1024);
    private static readonly Option<SortedSet<int>> DenySourcePorts = new("--udp-deny-source-ports")
    {
        Description = $"Never answer UDP datagrams from these source ports (numbers, LOW-HIGH ranges, service names; 'default' adds the default list, 'none' alone answers all; repeatable, the lists add up). Default {string.Join(',', UdpOptions.DefaultDenySourcePorts)}.",
        HelpName = "LIST",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        // Every token counts: a repeated flag, and a JSON list or a comma-separated variable (one token per item).
        CustomParser = result =>
        {
            if (PortList.TryParse(result.Tokens.Select(t => t.Value).ToArray(), UdpOptions.DefaultDenySourcePorts, out var ports, out var error))
            {
                return ports;
            }
            result.AddError($"{error} for --udp-deny-source-ports");
            return null!;
        },
    };
    // No default value: the default also exempts loopback, which no number says, so --print-config must write null
    // for it (a printed 1000 would read back as a limit given, one that applies to loopback too).
    private static readonly Option<int> RateLimit = CliOptions.WithoutDefault(CliOptions.Int("--udp-rate-limit",
        $"UDP datagrams answered per second per source address (token bucket, burst of one second's worth); 0 = no limit. Default {Defaults.RateLimit}, which exempts loopback sources; a limit given here (or in the config file or environment) applies to every source, loopback too.",
        Defaults.RateLimit, 0, 10_000_000));

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public static void AddTo(Command command)
    {
        command.Options.Add(Udp);
        command.Options.Add(Buffer);
        command.Options.Add(DenySourcePorts);
        command.Options.Add(RateLimit);
    }

    /// <summary>Adds the UDP listeners and settings the command line gives to <paramref name="options"/>.</summary>
    public static void Apply(ParseResult parse, EchoServerOptions options)
    {
        foreach (var endpoint in parse.GetValue(Udp) ?? [])
        {
            options.Endpoints.Add(new ListenEndpoint(ListenProtocol.Udp, endpoint));
        }
        var buffer = parse.GetValue(Buffer);
        if (buffer is > 0 and < 4096)
        {
            throw new UsageException($"invalid value '{buffer}' for --udp-buffer: expected 0 (system default) or from 4096 bytes");
        }
        options.Udp.SocketBufferSize = buffer;
        // Only the default spares loopback (local load tests); a limit the user chose applies to every source.
        var given = parse.GetResult(RateLimit) is { Implicit: false };
        options.Udp.RateLimit = given ? parse.GetValue(RateLimit) : Defaults.RateLimit;
        options.Udp.ExemptLoopbackFromRateLimit = !given;
        if (parse.GetValue(DenySourcePorts) is { } denied)
        {
            options.Udp.DenySourcePorts.Clear();
            options.Udp.DenySourcePorts.UnionWith(denied);
        }
    }
}
