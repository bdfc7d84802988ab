using System.Net.Sockets;

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
}
