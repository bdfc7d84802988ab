namespace EchoKit.Server.ProxyProtocol;

/// <summary>The outcome of <see cref="ProxyHeaderParser.Parse"/>.</summary>
internal enum ProxyParseStatus
{
    /// <summary>A whole, valid header: <see cref="ProxyParseResult.Header"/> and its length are set.</summary>
    Complete,
    /// <summary>Valid so far but cut short: read more bytes and parse again from the start.</summary>
    NeedMoreData,
    /// <summary>Not a valid header (malformed, oversized, or no header at all): close the connection.</summary>
    Invalid,
}
