using System.Text.Json;

namespace EchoKit.Server.Reflect;

/// <summary>One parsed reflect request line (version 1): <c>{"v":1,"op":"echo","id":"a1","size":1400,"after_ms":0}</c>.</summary>
/// <param name="Operation">What is asked.</param>
/// <param name="Id">The client's tag for the request, echoed back (at most 64 printable ASCII characters), or null.</param>
/// <param name="Size">For <see cref="ReflectOperation.Echo"/>: the answer's size in bytes, newline included.</param>
/// <param name="After">For <see cref="ReflectOperation.Hold"/>: how long to wait before answering.</param>
internal readonly record struct ReflectRequest(ReflectOperation Operation, string? Id, int Size, TimeSpan After)
{
    /// <summary>The protocol version this code speaks.</summary>
    public const int Version = 1;

    /// <summary>The request as one JSON line (with its newline), padded with a <c>pad</c> member to at least <paramref name="padTo"/> bytes.</summary>
    public byte[] ToLine(int padTo = 0)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteString("op", Operation switch { ReflectOperation.Echo => "echo", ReflectOperation.Hold => "hold", _ => "info" });
            if (Id is not null)
            {
                json.WriteString("id", Id);
            }
            if (Operation == ReflectOperation.Echo)
            {
                json.WriteNumber("size", Size);
            }
            if (Operation == ReflectOperation.Hold)
            {
                json.WriteNumber("after_ms", (long)After.TotalMilliseconds);
            }
            json.WriteEndObject();
        }
        return ReflectPadding.Pad(stream.ToArray(), padTo);
    }

    /// <summary>
    /// The <c>id</c> of a request <see cref="TryParse"/> refused (an unknown op, a bad size), read wherever it stands in
    /// the object, so the error answer can carry it as every answer does; null when it cannot be read.
    /// </summary>
    public static string? TryReadId(ReadOnlySpan<byte> line, bool truncated = false)
    {
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: !truncated, new JsonReaderState(new JsonReaderOptions { MaxDepth = 4 }));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String && reader.GetString() is { } id && IsValidId(id) ? id : null;
                }
                if (!reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON, or not UTF-8, before an id was found: the error answer goes without one.
        }
        return null;
    }

    /// <summary>An id a request may carry and an answer may echo: at most 64 printable ASCII characters.</summary>
    private static bool IsValidId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) =>
        id is { Length: <= 64 } && !id.Any(c => c is < ' ' or > '~');

    /// <summary>Parses one request line (without its newline); on failure returns false and a one-line reason.</summary>
    /// <param name="line">The request.</param>
    /// <param name="request">The request parsed.</param>
    /// <param name="error">Why it was refused.</param>
    /// <param name="truncated">
    /// Only the start of a larger datagram was read: the members up to where it was cut count (a client puts its
    /// padding last, so a large "echo" request need not be read whole).
    /// </param>
    public static bool TryParse(ReadOnlySpan<byte> line, out ReflectRequest request, out string? error, bool truncated = false)
    {
        request = default;
        error = null;
        var operation = ReflectOperation.Info;
        string? id = null;
        var size = 0;
        long afterMs = 0;
        try
        {
            var reader = new Utf8JsonReader(line, isFinalBlock: !truncated, new JsonReaderState(new JsonReaderOptions { MaxDepth = 4 }));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "a request is one JSON object per line";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    break; // cut inside a value: only a truncated datagram gets here
                }
                switch (name)
                {
                    case "v" when reader.TokenType == JsonTokenType.Number:
                        if (!reader.TryGetInt32(out var version) || version != Version)
                        {
                            error = $"unsupported version; this server speaks v{Version}";
                            return false;
                        }
                        break;
                    case "op" when reader.TokenType == JsonTokenType.String:
                        switch (reader.GetString())
                        {
                            case "info": operation = ReflectOperation.Info; break;
                            case "echo": operation = ReflectOperation.Echo; break;
                            case "hold": operation = ReflectOperation.Hold; break;
                            default: error = "unknown op (expected info, echo or hold)"; return false;
                        }
                        break;
                    case "id" when reader.TokenType == JsonTokenType.String:
                        id = reader.GetString();
                        if (!IsValidId(id))
                        {
                            error = "id must be at most 64 printable ASCII characters";
                            return false;
                        }
                        break;
                    case "size" when reader.TokenType == JsonTokenType.Number:
                        if (!reader.TryGetInt32(out size) || size < 0)
                        {
                            error = "size must be a non-negative integer";
                            return false;
                        }
                        break;
                    case "after_ms" when reader.TokenType == JsonTokenType.Number:
                        if (!reader.TryGetInt64(out afterMs) || afterMs < 0)
                        {
                            error = "after_ms must be a non-negative integer";
                            return false;
                        }
                        break;
                    default:
                        // Unknown members (the client's padding, future fields) are skipped.
                        if (!reader.TrySkip())
                        {
                            goto End;
                        }
                        break;
                }
            }
        End:
            if (reader.TokenType != JsonTokenType.EndObject && !truncated)
            {
                error = "a request is one JSON object per line";
                return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name or string that is not valid UTF-8 (GetString cannot transcode it).
            error = "a request is one JSON object of UTF-8 text per line";
            return false;
        }
        request = new ReflectRequest(operation, id, size, TimeSpan.FromMilliseconds(Math.Min(afterMs, (long)TimeSpan.FromDays(2).TotalMilliseconds)));
        return true;
    }
}
