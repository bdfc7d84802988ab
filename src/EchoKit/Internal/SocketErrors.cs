using System.Net.Sockets;

namespace EchoKit.Internal;

/// <summary>Sorts socket errors into the expected (a peer that left) and the rest.</summary>
internal static class SocketErrors
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
