using System.Net.Sockets;

namespace EchoKit.Server;

/// <summary>A listener could not be opened. The message is one line naming the address and the reason.</summary>
public sealed class ListenerBindException : Exception
{
    /// <summary>Creates the exception for <paramref name="address"/> failing with <paramref name="error"/>.</summary>
    public ListenerBindException(string address, SocketError error, Exception? inner)
        : base(Describe(address, error), inner)
    {
        Address = address;
        SocketError = error;
    }

    /// <summary>Creates the exception with a message of its own (one line naming <paramref name="address"/>).</summary>
    public ListenerBindException(string address, SocketError error, string message, Exception? inner)
        : base(message, inner)
    {
        Address = address;
        SocketError = error;
    }

    /// <summary>The address that could not be bound, as a URI.</summary>
    public string Address { get; }

    /// <summary>The socket error the OS gave.</summary>
    public SocketError SocketError { get; }

    private static string Describe(string address, SocketError error) => error switch
    {
        SocketError.AddressAlreadyInUse => $"cannot listen on {address}: address already in use (another server is bound to it)",
        SocketError.AccessDenied => $"cannot listen on {address}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port from 1024 up)",
        SocketError.AddressNotAvailable => $"cannot listen on {address}: address not available on this machine",
        _ => $"cannot listen on {address}: {new SocketException((int)error).Message}",
    };
}
