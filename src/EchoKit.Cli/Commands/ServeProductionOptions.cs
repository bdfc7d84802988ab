using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using EchoKit.Cli.Parsing;
using EchoKit.Endpoints;
using EchoKit.Server;
using EchoKit.Server.AccessControl;

namespace EchoKit.Cli.Commands;

/// <summary>
/// The production flags of <c>echokit serve</c>: limits, access control, Unix and TLS listeners, SO_REUSEPORT and
/// the PROXY protocol. Kept apart from <see cref="ServeCommand"/>, which only calls <see cref="AddTo"/> and
/// <see cref="Apply"/>.
/// </summary>
internal static class ServeProductionOptions
{
    private static readonly TimeSpan DefaultProxyTimeout = TimeSpan.FromSeconds(3);
    private static readonly Option<int> MaxConnections = CliOptions.WithoutDefault(CliOptions.Int("--max-connections",
        "Most connections open at once; more are closed at once, unread, logged and counted. Default: no limit.", 0, 1, 10_000_000));
    private static readonly Option<TimeSpan> IdleTimeout = CliOptions.WithoutDefault(CliOptions.Duration("--idle-timeout",
        "Close a connection after DURATION with no byte either way (logged as idle). Default: never.", TimeSpan.Zero));
    private static readonly Option<IpNetwork[]> Allow = Ranges("--allow",
        "Accept only clients in CIDR (e.g. 10.0.0.0/8, 2001:db8::/32, 127.0.0.1; repeatable). Default: everyone.");
    private static readonly Option<IpNetwork[]> Deny = Ranges("--deny",
        "Refuse clients in CIDR (repeatable); deny wins over allow. Refused clients are closed before a byte is read.");
    private static readonly Option<string[]> AllowFile = Files("--allow-file", "Read --allow ranges from FILE: one per line, # comments.");
    private static readonly Option<string[]> DenyFile = Files("--deny-file", "Read --deny ranges from FILE: one per line, # comments.");
    private static readonly Option<string[]> Unix = new("--unix")
    {
        Description = "Listen on a Unix domain stream socket at PATH (repeatable). A stale socket file is replaced; the file is removed on exit.",
        HelpName = "PATH",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<UnixFileMode?> UnixMode = new("--unix-mode")
    {
        Description = "Permissions of --unix socket files, in octal (e.g. 660). Default: as the umask gives.",
        HelpName = "MODE",
        CustomParser = ParseUnixMode,
    };
    private static readonly Option<EndpointSpec[]> Tls = CliOptions.Endpoints("--tls",
        "Listen for TLS 1.2/1.3 on ENDPOINT (repeatable); needs --tls-cert.");
    private static readonly Option<string> TlsCert = new("--tls-cert")
    {
        Description = "Server certificate for --tls, PEM (may hold the key too).",
        HelpName = "FILE",
    };
    private static readonly Option<string> TlsKey = new("--tls-key")
    {
        Description = "Private key for --tls-cert, PEM. Default: read from the --tls-cert file.",
        HelpName = "FILE",
    };
    private static readonly Option<TimeSpan> TlsHandshakeTimeout = CliOptions.Duration("--tls-handshake-timeout",
        "Close a TLS client that has not completed its handshake after DURATION. Default 10s.", TimeSpan.FromSeconds(10));
    private static readonly Option<bool> ReusePort = new("--reuse-port")
    {
        Description = "Set SO_REUSEPORT on TCP/TLS listeners, so several echokit processes can share a port (Linux).",
    };
    private static readonly Option<ListenProtocol[]?> ProxyProtocol = new("--proxy-protocol")
    {
        Description = "Expect a PROXY protocol v1/v2 header on each connection and log the client address it carries. " +
            "Alone: every TCP, TLS and Unix listener; or name them: tcp, tls, unix (comma-separated).",
        HelpName = "tcp,tls,unix",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseProxyKinds,
    };
    private static readonly Option<TimeSpan> ProxyTimeout = CliOptions.Duration("--proxy-timeout",
        "Close a connection whose PROXY header is not complete after DURATION. Default 3s.", DefaultProxyTimeout);

    private static readonly Option<ServerEngine> Engine = new("--engine")
    {
        Description = "I/O engine of TCP and Unix listeners: auto (epoll on 64-bit Linux, else sockets), epoll, sockets. TLS always uses sockets. Default auto.",
        HelpName = "auto|epoll|sockets",
        DefaultValueFactory = _ => ServerEngine.Auto,
        CustomParser = result => result.Tokens[^1].Value.ToLowerInvariant() switch
        {
            "auto" => ServerEngine.Auto,
            "epoll" => ServerEngine.Epoll,
            "sockets" => ServerEngine.Sockets,
            var other => FailEngine(result, $"invalid value '{other}' for --engine: expected auto, epoll or sockets"),
        },
    };
    private static readonly Option<int> IoThreads = CliOptions.WithoutDefault(CliOptions.Int("--io-threads",
        "Event loops of the epoll engine. Default: the processors this process may use (taskset -c 0 gives 1).", 0, 1, 1024));

    private static ServerEngine FailEngine(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default;
    }

    /// <summary>Adds every production flag to <paramref name="command"/>.</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            MaxConnections, IdleTimeout, Allow, Deny, AllowFile, DenyFile, Unix, UnixMode, Tls, TlsCert, TlsKey,
            TlsHandshakeTimeout, ReusePort, ProxyProtocol, ProxyTimeout, Engine, IoThreads,
        })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// Copies the flags into <paramref name="options"/> and adds the TLS and Unix listeners. Call it after the TCP, UDP
    /// and reflect listeners were added, so that <c>--proxy-protocol</c> knows whether the server's implicit TCP
    /// listener will be there. Bad combinations, bad ranges (also in a range file) and out-of-range settings throw
    /// <see cref="UsageException"/> (exit 2) naming the input; a range file, certificate or key that cannot be read or
    /// used throws <see cref="InputFileException"/> (exit 1).
    /// </summary>
    public static void Apply(ParseResult parse, EchoServerOptions options)
    {
        if (parse.GetValue(MaxConnections) is > 0 and var max)
        {
            options.MaxConnections = max;
        }
        if (parse.GetValue(IdleTimeout) is var idle && idle > TimeSpan.Zero)
        {
            options.IdleTimeout = idle;
        }
        options.ReusePort = parse.GetValue(ReusePort);
        options.Engine = parse.GetValue(Engine);
        if (parse.GetValue(IoThreads) is > 0 and var loops)
        {
            options.IoThreads = loops;
        }
        options.AccessList = BuildAccessList(parse);

        // The flag alone may come back as null or as an empty array: both mean every stream listener.
        var proxyKinds = parse.GetResult(ProxyProtocol) is null
            ? []
            : parse.GetValue(ProxyProtocol) is { Length: > 0 } named ? named : [ListenProtocol.Tcp, ListenProtocol.Tls, ListenProtocol.Unix];
        options.ProxyProtocol.HeaderTimeout = parse.GetValue(ProxyTimeout);
        // Compared with the default, not "given": --print-config writes every option, and its output must read back.
        if (parse.GetResult(ProxyTimeout) is { Implicit: false } && parse.GetValue(ProxyTimeout) != DefaultProxyTimeout && proxyKinds.Length == 0)
        {
            throw new UsageException("--proxy-timeout needs --proxy-protocol");
        }

        var unixPaths = parse.GetValue(Unix) ?? [];
        var mode = parse.GetValue(UnixMode);
        if (mode is not null && unixPaths.Length == 0)
        {
            throw new UsageException("--unix-mode needs --unix");
        }
        var tlsEndpoints = parse.GetValue(Tls) ?? [];
        LoadCertificate(parse, options, tlsEndpoints.Length > 0);

        // The server's own listener (:50007) comes only when no listener of any kind is given.
        var implicitTcp = options.Endpoints.Count == 0 && !options.Reflect.HasEndpoints && unixPaths.Length == 0 && tlsEndpoints.Length == 0;
        var tcpListeners = implicitTcp || options.Endpoints.Any(e => e.Protocol == ListenProtocol.Tcp);
        if (proxyKinds.Length > 0 && !tcpListeners && unixPaths.Length == 0 && tlsEndpoints.Length == 0)
        {
            throw new UsageException("--proxy-protocol: there is no TCP, TLS or Unix listener (PROXY headers do not apply to UDP or the reflect service)");
        }
        if (parse.GetValue(ProxyProtocol) is { Length: > 0 } namedKinds)
        {
            // Named kinds with no listener of that kind would silently do nothing: say so.
            foreach (var kind in namedKinds.Distinct())
            {
                var present = kind switch
                {
                    ListenProtocol.Tcp => tcpListeners,
                    ListenProtocol.Tls => tlsEndpoints.Length > 0,
                    _ => unixPaths.Length > 0,
                };
                if (!present)
                {
                    var word = kind.ToString().ToLowerInvariant();
                    throw new UsageException($"--proxy-protocol {word}: there is no {(kind == ListenProtocol.Unix ? "Unix" : word.ToUpperInvariant())} listener (add --{word} {(kind == ListenProtocol.Unix ? "PATH" : "ENDPOINT")})");
                }
            }
        }
        if (proxyKinds.Contains(ListenProtocol.Tcp) && implicitTcp)
        {
            // The server's implicit default listener must carry the flag too: make it explicit.
            options.Endpoints.Add(ListenEndpoint.Tcp($":{EchoServerOptions.DefaultPort}"));
        }
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            if (options.Endpoints[i].Protocol == ListenProtocol.Tcp && proxyKinds.Contains(ListenProtocol.Tcp))
            {
                options.Endpoints[i] = options.Endpoints[i] with { UseProxyProtocol = true };
            }
        }
        foreach (var endpoint in tlsEndpoints)
        {
            options.Endpoints.Add(new ListenEndpoint(ListenProtocol.Tls, endpoint) { UseProxyProtocol = proxyKinds.Contains(ListenProtocol.Tls) });
        }
        foreach (var path in unixPaths)
        {
            options.Endpoints.Add(ListenEndpoint.Unix(path, mode) with { UseProxyProtocol = proxyKinds.Contains(ListenProtocol.Unix) });
        }
    }

    private static IpAccessList? BuildAccessList(ParseResult parse)
    {
        var allow = new List<IpNetwork>(parse.GetValue(Allow) ?? []);
        var deny = new List<IpNetwork>(parse.GetValue(Deny) ?? []);
        allow.AddRange(ReadRangeFiles(parse.GetValue(AllowFile), "--allow-file"));
        deny.AddRange(ReadRangeFiles(parse.GetValue(DenyFile), "--deny-file"));
        return allow.Count == 0 && deny.Count == 0 ? null : new IpAccessList(allow, deny);
    }

    private static IEnumerable<IpNetwork> ReadRangeFiles(string[]? paths, string flag)
    {
        var ranges = new List<IpNetwork>();
        foreach (var path in paths ?? [])
        {
            try
            {
                ranges.AddRange(IpAccessList.ParseFile(path));
            }
            catch (FormatException ex)
            {
                throw new UsageException($"{flag}: {ex.Message}");
            }
            catch (Exception ex) when (FileErrors.IsFileError(ex))
            {
                throw new InputFileException($"{flag}: {FileErrors.Describe(path, ex)}");
            }
        }
        return ranges;
    }

    private static void LoadCertificate(ParseResult parse, EchoServerOptions options, bool tlsListeners)
    {
        var certificate = parse.GetValue(TlsCert);
        var key = parse.GetValue(TlsKey);
        options.Tls.HandshakeTimeout = parse.GetValue(TlsHandshakeTimeout);
        if (!tlsListeners)
        {
            if (certificate is not null || key is not null)
            {
                throw new UsageException("--tls-cert and --tls-key need a --tls listener");
            }
            return;
        }
        if (certificate is null)
        {
            throw new UsageException("--tls needs --tls-cert FILE (and --tls-key FILE unless the key is in it)");
        }
        try
        {
            options.Tls.Certificate = TlsOptions.LoadPem(certificate, key ?? certificate);
        }
        catch (FileNotFoundException ex)
        {
            throw new InputFileException($"TLS file {FileErrors.Describe(ex.FileName ?? certificate, ex)}");
        }
        catch (InvalidDataException ex) when (ex.InnerException is { } inner && FileErrors.IsFileError(inner))
        {
            throw new InputFileException($"TLS file {FileErrors.Describe(Directory.Exists(certificate) ? certificate : key ?? certificate, inner)}");
        }
        catch (InvalidDataException ex)
        {
            // The library's one line names the file and the problem: no key, an encrypted key, a key that does not match.
            throw new InputFileException(ex.Message);
        }
    }

    private static Option<IpNetwork[]> Ranges(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "CIDR",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = result =>
        {
            var ranges = new IpNetwork[result.Tokens.Count];
            for (var i = 0; i < ranges.Length; i++)
            {
                if (!IpNetwork.TryParse(result.Tokens[i].Value, out ranges[i], out var error))
                {
                    result.AddError($"{name}: {error}");
                    return [];
                }
            }
            return ranges;
        },
    };

    private static Option<string[]> Files(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "FILE",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    private static UnixFileMode? ParseUnixMode(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var digits = text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length is < 1 or > 4 || digits.Any(c => c is < '0' or > '7'))
        {
            result.AddError($"invalid value '{text}' for --unix-mode: expected octal permissions such as 660 or 0600");
            return null;
        }
        var value = Convert.ToInt32(digits, 8);
        if (value > 0x1FF)
        {
            result.AddError($"invalid value '{text}' for --unix-mode: only permission bits (at most 777) may be set");
            return null;
        }
        return (UnixFileMode)value;
    }

    private static ListenProtocol[]? ParseProxyKinds(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null; // the flag alone: every stream listener
        }
        var kinds = new List<ListenProtocol>();
        foreach (var word in result.Tokens[^1].Value.Split(',', StringSplitOptions.TrimEntries))
        {
            switch (word.ToLower(CultureInfo.InvariantCulture))
            {
                case "tcp": kinds.Add(ListenProtocol.Tcp); break;
                case "tls": kinds.Add(ListenProtocol.Tls); break;
                case "unix": kinds.Add(ListenProtocol.Unix); break;
                case "all": kinds.AddRange([ListenProtocol.Tcp, ListenProtocol.Tls, ListenProtocol.Unix]); break;
                default:
                    result.AddError($"invalid value '{word}' for --proxy-protocol: expected tcp, tls, unix or all");
                    return null;
            }
        }
        return kinds.ToArray();
    }
}
