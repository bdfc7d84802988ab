using System.Net.Sockets;
using EchoKit.Internal;
using EchoKit.Internal.Linux;

namespace EchoKit;

/// <summary>
/// The one socket-error classifier: sorts socket errors into the expected (a peer that left, a socket we closed) and
/// the rest, as Kestrel does, so callers can log the expected at Debug and the rest as errors. Errors of raw Linux
/// descriptors (the epoll engine, the bench) are first mapped to <see cref="SocketError"/> by the one errno table.
/// </summary>
public static class SocketErrors
{
    /// <summary>True for errors that mean the peer reset or vanished: expected on a network, logged at Debug.</summary>
    public static bool IsConnectionResetError(SocketError error) => error is
        SocketError.ConnectionReset or
        SocketError.ConnectionAborted or
        SocketError.Shutdown or
        SocketError.NetworkReset or
        SocketError.TimedOut or
        SocketError.HostUnreachable or
        SocketError.NetworkUnreachable or
        SocketError.NetworkDown or
        // EPIPE (we wrote after the peer closed) surfaces as Shutdown on Unix.
        SocketError.NotConnected;

    /// <summary>True for errors a socket operation gets when we closed the socket ourselves.</summary>
    public static bool IsAbortError(SocketError error) => error is
        SocketError.OperationAborted or
        SocketError.Interrupted or
        SocketError.Shutdown;

    /// <summary>
    /// True for an error a TLS stream (<see cref="System.Net.Security.SslStream"/>) throws after the handshake because
    /// the peer broke the protocol: a record that does not decrypt or authenticate, a renegotiation request (refused),
    /// an unexpected message, a stream cut mid-record. SslStream throws those as an <see cref="IOException"/> of its
    /// own; a socket error under it (<see cref="Exception.InnerException"/> a <see cref="SocketException"/>) is
    /// sorted by <see cref="IsConnectionResetError"/> instead. Only for exceptions from a TLS stream's read or write.
    /// </summary>
    internal static bool IsTlsProtocolError(Exception exception) =>
        exception is IOException { InnerException: not SocketException };

    /// <summary>The group of <paramref name="error"/>, for reporters that name errors (the client, the bench).</summary>
    internal static SocketErrorKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => SocketErrorKind.Refused,
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => SocketErrorKind.HostNotFound,
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => SocketErrorKind.Unreachable,
        // EPIPE (we wrote after the peer closed) surfaces as Shutdown on Unix.
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => SocketErrorKind.Reset,
        SocketError.NotConnected => SocketErrorKind.NotConnected,
        SocketError.TimedOut => SocketErrorKind.TimedOut,
        SocketError.AddressNotAvailable => SocketErrorKind.AddressNotAvailable,
        SocketError.AddressAlreadyInUse => SocketErrorKind.AddressInUse,
        SocketError.AddressFamilyNotSupported => SocketErrorKind.AddressFamilyNotSupported,
        SocketError.AccessDenied => SocketErrorKind.AccessDenied,
        _ => SocketErrorKind.Other,
    };

    /// <summary>The group of a Linux errno from a raw descriptor, through the one errno table (<see cref="Errno.ToSocketError"/>).</summary>
    internal static SocketErrorKind ClassifyErrno(int errno) => Classify(Errno.ToSocketError(errno));
}
