using System.Net;
using System.Net.Sockets;
using EchoKit.Endpoints;

namespace EchoKit.Server.Internal;

/// <summary>Creates bound sockets with the options a restartable server needs.</summary>
internal static class ListenSockets
{
    private const int SolSocket = 1;      // SOL_SOCKET on Linux
    private const int SoReuseAddr = 2;    // SO_REUSEADDR on Linux
    private const int SoReusePort = 15;   // SO_REUSEPORT on Linux

    /// <summary>
    /// A socket bound to <paramref name="address"/>, with SO_REUSEADDR so a restarted server binds at once while
    /// old connections sit in TIME_WAIT. <paramref name="dualStack"/> makes an IPv6 wildcard accept IPv4 too.
    /// Bind failures become <see cref="ListenerBindException"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="reusePort"/> adds SO_REUSEPORT (Linux): every socket of any process that sets it may bind the
    /// same address, and the kernel spreads new connections (or datagrams) among them. <paramref name="beforeBind"/>
    /// sets what must hold for the first datagram already (what a receive is to report with it).
    /// </remarks>
    public static Socket Bind(IPEndPoint address, SocketType type, ProtocolType protocol, bool dualStack, string scheme, bool reusePort = false, Action<Socket>? beforeBind = null)
    {
        var socket = new Socket(address.AddressFamily, type, protocol);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dualStack;
            }
            SetReuseAddress(socket);
            if (reusePort)
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }
            beforeBind?.Invoke(socket);
            socket.Bind(address);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenerBindException(EndpointResolver.FormatUri(scheme, address), ex.SocketErrorCode, ex);
        }
    }

    /// <summary>
    /// A listening stream socket on <paramref name="address"/>: <see cref="Bind"/>, then <paramref name="configure"/>
    /// (options that must be set before listen), then listen with <paramref name="backlog"/>. Failures become
    /// <see cref="ListenerBindException"/> and leave nothing open.
    /// </summary>
    public static Socket Listen(IPEndPoint address, bool dualStack, string scheme, int backlog, bool reusePort = false, Action<Socket>? configure = null)
    {
        var socket = Bind(address, SocketType.Stream, ProtocolType.Tcp, dualStack, scheme, reusePort);
        try
        {
            configure?.Invoke(socket);
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ListenerBindException(EndpointResolver.FormatUri(scheme, address), ex.SocketErrorCode, ex);
        }
    }

    private static void SetReuseAddress(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            // The raw option sets exactly SO_REUSEADDR; the portable setter may add SO_REUSEPORT on some
            // platforms, which would let a second server silently share the port instead of failing.
            socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        }
        else
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }
    }
}
