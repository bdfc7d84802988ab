namespace EchoKit.Internal;

/// <summary>
/// The groups <see cref="SocketErrors.Classify"/> sorts socket errors into. Each reporter maps a group to its own
/// words (the client's outcomes and reasons, the bench's error names), so which raw errors belong together is decided
/// once.
/// </summary>
internal enum SocketErrorKind
{
    /// <summary>Nothing listens there (ECONNREFUSED).</summary>
    Refused,
    /// <summary>The name does not resolve.</summary>
    HostNotFound,
    /// <summary>No route: network or host unreachable, network down.</summary>
    Unreachable,
    /// <summary>The peer reset or aborted the connection, or we wrote after it closed (EPIPE).</summary>
    Reset,
    /// <summary>The socket is not (or no longer) connected.</summary>
    NotConnected,
    /// <summary>The operation timed out in the kernel (ETIMEDOUT).</summary>
    TimedOut,
    /// <summary>The local address cannot be used here (EADDRNOTAVAIL, e.g. out of ephemeral ports).</summary>
    AddressNotAvailable,
    /// <summary>The local address is taken (EADDRINUSE).</summary>
    AddressInUse,
    /// <summary>No address of the family asked for.</summary>
    AddressFamilyNotSupported,
    /// <summary>Permission denied.</summary>
    AccessDenied,
    /// <summary>Anything else.</summary>
    Other,
}
