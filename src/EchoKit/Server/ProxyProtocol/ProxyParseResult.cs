namespace EchoKit.Server.ProxyProtocol;

/// <summary>The result of parsing the bytes received so far.</summary>
internal readonly struct ProxyParseResult
{
    private ProxyParseResult(ProxyParseStatus status, ProxyHeader? header, int length, string? error)
    {
        Status = status;
        Header = header;
        Length = length;
        Error = error;
    }

    /// <summary>Whether a header was found, more bytes are needed, or the bytes are invalid.</summary>
    public ProxyParseStatus Status { get; }

    /// <summary>The header when <see cref="Status"/> is <see cref="ProxyParseStatus.Complete"/>.</summary>
    public ProxyHeader? Header { get; }

    /// <summary>The header's length in bytes when complete: the client's own data starts right after it.</summary>
    public int Length { get; }

    /// <summary>Why the bytes are invalid, in a few words for the log, when <see cref="Status"/> is Invalid.</summary>
    public string? Error { get; }

    internal static ProxyParseResult Complete(ProxyHeader header, int length) => new(ProxyParseStatus.Complete, header, length, null);

    internal static ProxyParseResult NeedMoreData { get; } = new(ProxyParseStatus.NeedMoreData, null, 0, null);

    internal static ProxyParseResult Invalid(string error) => new(ProxyParseStatus.Invalid, null, 0, error);

    /// <inheritdoc />
    public override string ToString() => Status switch
    {
        ProxyParseStatus.Complete => $"complete ({Length} bytes): {Header}",
        ProxyParseStatus.NeedMoreData => "need more data",
        _ => $"invalid: {Error}",
    };
}
