using System.CommandLine;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using EchoKit.Server;

namespace EchoKit.Cli.Commands;

/// <summary>The reflect options of <c>echokit serve</c> (docs/reflect.md): listeners of their own and the instance id.</summary>
internal static class ReflectServeOptions
{
    private static readonly Option<EndpointSpec[]> ReflectTcp = CliOptions.Endpoints("--reflect-tcp",
        "Answer reflect requests over TCP on ENDPOINT (repeatable): each answer tells what the server saw (address, MSS, TCP_INFO, PROXY header). For `echokit probe`.");
    private static readonly Option<EndpointSpec[]> ReflectUdp = CliOptions.Endpoints("--reflect-udp",
        "Answer reflect requests over UDP on ENDPOINT (repeatable): address, TTL, DSCP/ECN, size; never a byte more than the request; the --udp-* deny and rate rules apply.");
    private static readonly Option<string> InstanceId = new("--instance-id")
    {
        Description = "The name reflect answers give for this server (for `echokit probe lb`). Default the host name.",
        HelpName = "NAME",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public static void AddTo(Command command)
    {
        command.Options.Add(ReflectTcp);
        command.Options.Add(ReflectUdp);
        command.Options.Add(InstanceId);
    }

    /// <summary>Adds the reflect listeners and instance id the command line gives to <paramref name="options"/>.</summary>
    public static void Apply(ParseResult parse, EchoServerOptions options)
    {
        foreach (var endpoint in parse.GetValue(ReflectTcp) ?? [])
        {
            options.Reflect.TcpEndpoints.Add(endpoint);
        }
        foreach (var endpoint in parse.GetValue(ReflectUdp) ?? [])
        {
            options.Reflect.UdpEndpoints.Add(endpoint);
        }
        if (parse.GetValue(InstanceId) is { } id)
        {
            if (id.Length is 0 or > 64 || id.Any(c => c is < '!' or > '~'))
            {
                throw new UsageException($"invalid value '{Sanitize(id)}' for --instance-id: expected 1 to 64 printable ASCII characters without spaces");
            }
            options.Reflect.InstanceId = id;
        }
    }

    private static string Sanitize(string text) => new(text.Take(64).Select(c => c is < ' ' or > '~' ? '?' : c).ToArray());
}
