using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using EchoKit.Endpoints;

namespace EchoKit.Cli.Parsing;

/// <summary>Option and argument factories shared by every command, so each form is parsed one way everywhere.</summary>
internal static class CliOptions
{
    /// <summary>Where a server listens (repeatable): an IPv4-mapped address is refused with the IPv4 endpoint to write.</summary>
    public static Option<EndpointSpec[]> Endpoints(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ENDPOINT",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = result => ParseEndpoints(result, listen: true),
    };

    /// <summary>
    /// The optional ENDPOINT of a command that also takes <c>--unix PATH</c> (bench, ping): HOST:PORT as
    /// <see cref="EndpointArgument"/> reads it, or a word that can only be a path (a '/', or <c>unix:</c>), which is the
    /// Unix socket, as <c>send</c> and <c>connect</c> take it. Null when not given.
    /// </summary>
    public static Argument<ClientTarget?> TargetArgument(string description) => new("ENDPOINT")
    {
        Description = $"{description} {ClientTarget.SchemesHelp}",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return null;
            }
            if (ClientTarget.TryParse(result.Tokens[0].Value, unix: false, out var target, out var error))
            {
                return target;
            }
            result.AddError(error);
            return null;
        },
    };

    /// <summary>
    /// The endpoint or Unix path of a command with <see cref="TargetArgument"/> and <c>--unix PATH</c>: exactly one of
    /// them must be given (a usage error otherwise).
    /// </summary>
    public static (EndpointSpec? Endpoint, string? UnixPath) TargetOf(ClientTarget? target, string? unixOption)
    {
        if (target is null == unixOption is null)
        {
            throw new UsageException(unixOption is null ? "give the ENDPOINT, or --unix PATH" : "give either ENDPOINT or --unix PATH, not both");
        }
        if (target is null)
        {
            // --unix PATH is read as -U PATH is, so every client's Unix path passes the one check.
            if (!ClientTarget.TryParse(unixOption!, unix: true, out target, out var error))
            {
                throw new UsageException(error);
            }
            return (null, target.UnixPath);
        }
        return (target.UnixPath is null ? target.Endpoint : null, target.UnixPath);
    }

    public static Argument<EndpointSpec> EndpointArgument() => new("ENDPOINT")
    {
        Description = "Where the server is: PORT, :PORT, HOST:PORT or [IPv6]:PORT; PORT may be a service name (echo, http...).",
        CustomParser = result => ParseTargetEndpoint(result)!,
    };

    /// <summary>
    /// A probe's ENDPOINT: HOST:PORT in every form <see cref="EndpointParser"/> takes, or as serve prints it
    /// (<see cref="ClientTarget.ProbeSchemes"/>), read by the one client parser, <see cref="ClientTarget.TryParse(string, bool, IReadOnlyList{string}, out ClientTarget?, out string?)"/>.
    /// </summary>
    public static Argument<EndpointSpec> ProbeEndpointArgument() => new("ENDPOINT")
    {
        Description = "Where the reflect server is: PORT, :PORT, HOST:PORT or [IPv6]:PORT (PORT may be a service name), or as serve prints it: tcp://, udp://, reflect+tcp:// or reflect+udp://HOST:PORT (each names the one port probed over TCP and UDP).",
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (!ClientTarget.TryParse(text, unix: false, ClientTarget.ProbeSchemes, out var target, out var error))
            {
                result.AddError(error);
                return null!;
            }
            if (target.UnixPath is not null)
            {
                result.AddError($"invalid endpoint '{text}': a probe dials HOST:PORT, not a Unix socket");
                return null!;
            }
            return target.Endpoint;
        },
    };

    /// <summary>The one endpoint a client command is pointed at; null, with the error added, when it is not one.</summary>
    private static EndpointSpec? ParseTargetEndpoint(ArgumentResult result)
    {
        if (ParseEndpoints(result) is not [var single])
        {
            return null;
        }
        if (ClientTarget.TargetError(single) is { } error)
        {
            result.AddError(error);
            return null;
        }
        return single;
    }

    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue, bool allowZero = false) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (DurationParser.Read(text, name, allowZero, out var value) is { } error)
            {
                result.AddError(error);
                return default;
            }
            return value;
        },
    };

    /// <summary>A duration with no default (null when not given); zero is refused.</summary>
    public static Option<TimeSpan?> OptionalDuration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (DurationParser.Read(text, name, allowZero: false, out var value) is { } error)
            {
                result.AddError(error);
                return null;
            }
            return value;
        },
    };

    /// <summary>Adds a short form (<c>-c</c>, <c>-w</c>) to an option and returns it, for field initialisers.</summary>
    public static Option<T> WithAlias<T>(this Option<T> option, string alias)
    {
        option.Aliases.Add(alias);
        return option;
    }

    /// <summary>A byte count: <c>65536</c>, <c>64k</c>, <c>64KiB</c>, <c>1M</c> (binary suffixes, see <see cref="SizeParser"/>).</summary>
    public static Option<int> Size(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "BYTES",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!SizeParser.TryParseBytes(text, out var value) || value < min || value > max)
            {
                result.AddError($"invalid size '{text}' for {name}: expected {SizeParser.SizeForms}, from {SizeParser.FormatBytes(min)} to {SizeParser.FormatBytes(max)}");
                return default;
            }
            return (int)value;
        },
    };

    /// <summary>
    /// <paramref name="option"/> with no default value: absent means something no value of its type says well ("no
    /// limit", "the built-in behaviour"), so help shows none and --print-config writes null, which reads back as absent.
    /// </summary>
    public static Option<T> WithoutDefault<T>(Option<T> option)
    {
        option.DefaultValueFactory = null;
        return option;
    }

    public static Option<int> Int(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            // The one count parser: decimal suffixes as bench -n and --rate take them (10k = 10000).
            if (!SizeParser.TryParseWholeCount(text, out var value) || value < min || value > max)
            {
                result.AddError($"invalid value '{text}' for {name}: expected a whole number from {min} to {max}");
                return default;
            }
            return (int)value;
        },
    };

    public static Option<Encoding> EncodingOption() => new("--encoding")
    {
        Description = "Text encoding of messages and replies (utf-8, gbk, latin1, ...). Default utf-8.",
        HelpName = "NAME",
        DefaultValueFactory = _ => new UTF8Encoding(false),
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (TextEncodings.TryGet(text, out var encoding))
            {
                return encoding;
            }
            result.AddError($"unknown encoding '{text}' (try utf-8, gbk, latin1, utf-16)");
            return null!;
        },
    };

    /// <summary>Each token as an endpoint; <paramref name="listen"/> for where a server binds (<see cref="EndpointParser.TryParseListen"/>).</summary>
    private static EndpointSpec[] ParseEndpoints(ArgumentResult result, bool listen = false)
    {
        var endpoints = new List<EndpointSpec>(result.Tokens.Count);
        foreach (var token in result.Tokens)
        {
            if (listen ? EndpointParser.TryParseListen(token.Value, out var endpoint, out var error) : EndpointParser.TryParse(token.Value, out endpoint, out error))
            {
                endpoints.Add(endpoint);
            }
            else
            {
                result.AddError(error);
                return [];
            }
        }
        return endpoints.ToArray();
    }
}
