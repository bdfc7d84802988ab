using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EchoKit.Client;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>
/// The options every client command shares, made once per command: the target (IP endpoint or Unix socket), the IP
/// version (<c>-4</c>/<c>-6</c>), the source address, and TLS (<c>--tls</c>, <c>--ca</c>, <c>-k</c>, <c>--server-name</c>).
/// One definition, so send and connect spell and check them the same way.
/// </summary>
internal sealed class ClientOptionSet
{
    public Option<bool> Unix { get; } = new("--unix", "-U") { Description = "ENDPOINT is the path of a Unix domain stream socket (as ncat -U); a path with a '/' is taken as one anyway." };
    public Option<bool> IPv4 { get; } = new("-4") { Description = "Use IPv4 addresses only." };
    public Option<bool> IPv6 { get; } = new("-6") { Description = "Use IPv6 addresses only." };
    public Option<IPEndPoint?> Source { get; } = new("--source", "-s")
    {
        Description = "Send from this local address (and port): 192.0.2.7, 192.0.2.7:40000, [2001:db8::7]:0.",
        HelpName = "ADDR[:PORT]",
        CustomParser = ParseSource,
    };
    public Option<bool> Tls { get; } = new("--tls", "--ssl") { Description = "TLS over the connection, with SNI and certificate validation." };
    public Option<FileInfo?> Ca { get; } = new("--ca") { Description = "With --tls: trust the CA certificate(s) in this PEM file (a private CA or a self-signed server).", HelpName = "FILE" };
    public Option<bool> Insecure { get; } = new("--insecure", "-k") { Description = "With --tls: do not check the server's certificate (as curl -k; a warning says what was ignored)." };
    public Option<string?> ServerName { get; } = new("--server-name") { Description = "With --tls: the name for SNI and the certificate check. Default: the endpoint's host.", HelpName = "NAME" };

    /// <summary>The ENDPOINT argument of a client: an IP endpoint, or a Unix socket path with <c>-U</c> or a '/'.</summary>
    public Argument<ClientTarget> Target { get; }

    public ClientOptionSet()
    {
        Target = new Argument<ClientTarget>("ENDPOINT")
        {
            Description = "Where the server is: PORT, :PORT, HOST:PORT or [IPv6]:PORT (PORT may be a service name: echo, http...), or a Unix socket path. "
                + ClientTarget.SchemesHelp,
            CustomParser = ParseTarget,
        };
    }

    /// <summary>Adds the target argument first and the options after the command's own.</summary>
    public void AddArgumentTo(Command command) => command.Arguments.Add(Target);

    public void AddOptionsTo(Command command, bool tls)
    {
        foreach (var option in new Option[] { Unix, IPv4, IPv6, Source })
        {
            command.Options.Add(option);
        }
        if (tls)
        {
            foreach (var option in new Option[] { Tls, Ca, Insecure, ServerName })
            {
                command.Options.Add(option);
            }
        }
    }

    /// <summary>The transport the options ask for; throws <see cref="UsageException"/> for contradictions.</summary>
    public ClientTransport BuildTransport(ParseResult parse, ClientTarget target)
    {
        var v4 = parse.GetValue(IPv4);
        var v6 = parse.GetValue(IPv6);
        var source = parse.GetValue(Source);
        if (v4 && v6)
        {
            throw new UsageException("give either -4 or -6, not both");
        }
        if (target.UnixPath is not null && (v4 || v6 || source is not null))
        {
            throw new UsageException($"{(v4 ? "-4" : v6 ? "-6" : "--source")} is for IP; a Unix socket has no IP version or source address");
        }
        var transport = new ClientTransport
        {
            UnixSocketPath = target.UnixPath,
            AddressFamily = v4 ? AddressFamily.InterNetwork : v6 ? AddressFamily.InterNetworkV6 : AddressFamily.Unspecified,
            LocalEndPoint = source,
        };
        try
        {
            transport.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Split(" (Parameter", 2)[0]);
        }
        return transport;
    }

    /// <summary>
    /// UDP or not, and the TLS settings (null without TLS): the command's <paramref name="udp"/> option and
    /// <c>--tls</c>, with what the target's scheme says (<c>udp://</c>, <c>tls://</c>: <see cref="ClientTarget.WithFlags"/>).
    /// Throws <see cref="UsageException"/> for contradictions and TLS options without TLS,
    /// <see cref="InputFileException"/> (exit 1) for a CA file that cannot be used.
    /// </summary>
    public (bool Udp, ConnectTlsOptions? Tls) BuildProtocol(ParseResult parse, Option<bool> udp, ClientTarget target)
    {
        var (isUdp, isTls) = ClientTarget.WithFlags(target, parse.GetValue(udp), parse.GetValue(Tls));
        return (isUdp, BuildTls(parse, isTls));
    }

    private ConnectTlsOptions? BuildTls(ParseResult parse, bool tls)
    {
        var caFile = parse.GetValue(Ca);
        var insecure = parse.GetValue(Insecure);
        var serverName = parse.GetValue(ServerName);
        if (!tls && (caFile is not null || insecure || serverName is not null))
        {
            throw new UsageException($"{(caFile is not null ? "--ca" : insecure ? "--insecure" : "--server-name")} needs --tls");
        }
        if (caFile is not null && insecure)
        {
            throw new UsageException("give either --ca or --insecure, not both");
        }
        if (!tls)
        {
            return null;
        }
        return new ConnectTlsOptions
        {
            SkipValidation = insecure,
            ServerName = serverName,
            TrustedRoots = caFile is null ? null : LoadCa(caFile),
        };
    }

    /// <summary>Reads a PEM bundle of trusted roots; a file that can't be read or holds none is an <see cref="InputFileException"/>.</summary>
    internal static X509Certificate2Collection LoadCa(FileInfo file)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(file.FullName);
        }
        catch (Exception ex) when (FileErrors.IsFileError(ex))
        {
            throw new InputFileException($"CA file {FileErrors.Describe(file.FullName, ex)}");
        }
        catch (CryptographicException)
        {
            throw new InputFileException($"CA file {file.FullName}: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)");
        }
        if (roots.Count == 0)
        {
            throw new InputFileException($"no certificate in CA file {file.FullName} (expected PEM: -----BEGIN CERTIFICATE-----)");
        }
        return roots;
    }

    private ClientTarget ParseTarget(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        var unixFlag = result.Parent is CommandResult command && command.Children.OfType<OptionResult>().Any(o => o.Option == Unix && !o.Implicit);
        if (ClientTarget.TryParse(text, unixFlag, out var target, out var error))
        {
            return target;
        }
        result.AddError(error);
        return null!;
    }

    private static IPEndPoint? ParseSource(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        // IPAddress also reads "1.2.3" as 1.2.0.3 and "10" as 0.0.0.10: an IPv4 address must be written out in full.
        static bool Written(IPAddress address, string text) =>
            address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || address.ToString() == text;
        if (IPAddress.TryParse(text, out var address) && !text.StartsWith('[') && Written(address, text))
        {
            return new IPEndPoint(address, 0);
        }
        if (IPEndPoint.TryParse(text, out var endpoint) && (text.StartsWith('[') || (text.Count(c => c == ':') == 1 && Written(endpoint.Address, text[..text.IndexOf(':')]))))
        {
            return endpoint;
        }
        result.AddError($"invalid source address '{text}' for --source: expected an IP address with an optional port, e.g. 192.0.2.7, 192.0.2.7:40000, [2001:db8::7]:40000");
        return null;
    }
}
