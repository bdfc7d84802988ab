using System.Net;
using System.Text.Json;
using EchoKit.Endpoints;
using EchoKit.Server.ProxyProtocol;

namespace EchoKit.Server.Reflect;

/// <summary>
/// One reflect answer (docs/reflect.md): what the server observed about a request. The server builds it and
/// <see cref="ToJson"/> writes it; a probe reads it back with <see cref="TryParse"/>.
/// </summary>
internal sealed record ReflectReport
{
    /// <summary>The protocol version, 1.</summary>
    public int Version { get; init; } = ReflectRequest.Version;

    /// <summary>The request's id, echoed.</summary>
    public string? Id { get; init; }

    /// <summary>The server's <c>--instance-id</c>.</summary>
    public string? Instance { get; init; }

    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    public string? Transport { get; init; }

    /// <summary>The client's address and port as the server saw them (after any NAT), <c>host:port</c>.</summary>
    public string? Client { get; init; }

    /// <summary>The server's local address and port the request arrived on.</summary>
    public string? Local { get; init; }

    /// <summary>The PROXY header the connection began with, if any.</summary>
    public ProxyHeader? Proxy { get; init; }

    /// <summary>The server's view of the TCP connection (Linux).</summary>
    public TcpPathInfo? Tcp { get; init; }

    /// <summary>TCP: the client's SYN as it reached the server (MSS option after any clamping, TTL, TOS), when the kernel kept it.</summary>
    public SavedSyn? Syn { get; init; }

    /// <summary>UDP: the received datagram's size in bytes.</summary>
    public int? DatagramSize { get; init; }

    /// <summary>UDP: the received TTL (IPv4) or hop limit (IPv6).</summary>
    public int? Ttl { get; init; }

    /// <summary>UDP: the received TOS / traffic class byte (DSCP in the upper six bits, ECN in the lower two).</summary>
    public int? Tos { get; init; }

    /// <summary>For a hold: how long the server waited, in milliseconds.</summary>
    public long? HeldMilliseconds { get; init; }

    /// <summary>Set instead of the observations when the request was refused.</summary>
    public string? Error { get; init; }

    /// <summary>The client address parsed, or null.</summary>
    public IPEndPoint? ClientEndPoint => IPEndPoint.TryParse(Client ?? "", out var e) ? e : null;

    /// <summary>The answer as one JSON object (no newline).</summary>
    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            if (Id is not null)
            {
                json.WriteString("id", Id);
            }
            if (Error is not null)
            {
                json.WriteString("error", Error);
                json.WriteEndObject();
                json.Flush();
                return stream.ToArray();
            }
            json.WriteString("instance", Instance);
            json.WriteString("transport", Transport);
            json.WriteString("client", Client);
            json.WriteString("local", Local);
            if (Proxy is { } proxy)
            {
                json.WriteStartObject("proxy");
                json.WriteNumber("version", proxy.Version);
                json.WriteString("command", proxy.Command.ToString().ToLowerInvariant());
                json.WriteString("source", proxy.Source is null ? null : EndpointResolver.FormatAddress(proxy.Source));
                json.WriteString("destination", proxy.Destination is null ? null : EndpointResolver.FormatAddress(proxy.Destination));
                json.WriteEndObject();
            }
            else if (Transport == "tcp")
            {
                json.WriteNull("proxy");
            }
            if (Tcp is { } tcp)
            {
                json.WriteStartObject("tcp");
                json.WriteNumber("mss", tcp.Mss);
                json.WriteNumber("advmss", tcp.AdvertisedMss);
                json.WriteNumber("pmtu", tcp.PathMtu);
                json.WriteNumber("rtt_us", tcp.RttMicroseconds);
                json.WriteNumber("rttvar_us", tcp.RttVarianceMicroseconds);
                json.WriteNumber("retransmits", tcp.Retransmits);
                json.WriteNumber("total_retrans", tcp.TotalRetransmits);
                json.WriteBoolean("timestamps", tcp.Timestamps);
                if (Syn is { } syn)
                {
                    WriteNumberOrNull(json, "syn_mss", syn.Mss);
                    json.WriteNumber("syn_ttl", syn.Ttl);
                    json.WriteNumber("syn_tos", syn.Tos);
                }
                json.WriteEndObject();
            }
            if (DatagramSize is { } size)
            {
                json.WriteStartObject("udp");
                json.WriteNumber("size", size);
                WriteNumberOrNull(json, "ttl", Ttl);
                WriteNumberOrNull(json, "tos", Tos);
                WriteNumberOrNull(json, "dscp", Tos >> 2);
                WriteNumberOrNull(json, "ecn", Tos & 3);
                json.WriteEndObject();
            }
            if (HeldMilliseconds is { } held)
            {
                json.WriteNumber("held_ms", held);
            }
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Reads an answer line; false when it is not a reflect answer of a version this code knows.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ReflectReport report)
    {
        report = new ReflectReport();
        try
        {
            using var document = JsonDocument.Parse(line.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var v) || v.ValueKind != JsonValueKind.Number || v.GetInt32() != ReflectRequest.Version)
            {
                return false;
            }
            ProxyHeader? proxy = null;
            if (root.TryGetProperty("proxy", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                proxy = new ProxyHeader(
                    Int(p, "version") ?? 0,
                    Enum.TryParse<ProxyCommand>(Str(p, "command"), ignoreCase: true, out var command) ? command : ProxyCommand.Local,
                    IPEndPoint.TryParse(Str(p, "source") ?? "", out var source) ? source : null,
                    IPEndPoint.TryParse(Str(p, "destination") ?? "", out var destination) ? destination : null);
            }
            TcpPathInfo? tcp = null;
            SavedSyn? syn = null;
            if (root.TryGetProperty("tcp", out var t) && t.ValueKind == JsonValueKind.Object)
            {
                tcp = new TcpPathInfo(Int(t, "mss") ?? 0, Int(t, "advmss") ?? 0, Int(t, "pmtu") ?? 0, Long(t, "rtt_us") ?? 0, Long(t, "rttvar_us") ?? 0,
                    Int(t, "retransmits") ?? 0, Long(t, "total_retrans") ?? 0, t.TryGetProperty("timestamps", out var ts) && ts.ValueKind == JsonValueKind.True);
                if (Int(t, "syn_ttl") is { } synTtl)
                {
                    syn = new SavedSyn(Int(t, "syn_mss"), synTtl, Int(t, "syn_tos") ?? 0);
                }
            }
            int? size = null, ttl = null, tos = null;
            if (root.TryGetProperty("udp", out var u) && u.ValueKind == JsonValueKind.Object)
            {
                size = Int(u, "size");
                ttl = Int(u, "ttl");
                tos = Int(u, "tos");
            }
            report = new ReflectReport
            {
                Id = Str(root, "id"),
                Error = Str(root, "error"),
                Instance = Str(root, "instance"),
                Transport = Str(root, "transport"),
                Client = Str(root, "client"),
                Local = Str(root, "local"),
                Proxy = proxy,
                Tcp = tcp,
                Syn = syn,
                DatagramSize = size,
                Ttl = ttl,
                Tos = tos,
                HeldMilliseconds = Long(root, "held_ms"),
            };
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var v) ? v : null;

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var v) ? v : null;
}
