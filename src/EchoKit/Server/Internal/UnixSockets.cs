using System.Net.Sockets;
using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>Binds Unix domain stream sockets, replacing a stale socket file only when nothing listens on it.</summary>
internal static class UnixSockets
{
    /// <summary>
    /// A listening socket at <paramref name="path"/> with permissions <paramref name="mode"/> (set before listen(),
    /// so no client connects through looser permissions). An existing file is removed only if it is empty (as a
    /// socket file is) and a connect to it is refused; a live socket or a regular file fails the bind.
    /// </summary>
    public static Socket BindAndListen(string path, UnixFileMode? mode, int backlog, string uri, ILogger logger)
    {
        var endPoint = new UnixDomainSocketEndPoint(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            // bind() would say ENOENT, which .NET reports as "address not available": say what is missing.
            throw new ListenerBindException(uri, SocketError.AddressNotAvailable, $"cannot listen on {uri}: directory '{directory}' does not exist", null);
        }
        RemoveIfStale(path, endPoint, uri, logger);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var bound = false;
        try
        {
            socket.Bind(endPoint);
            bound = true;
            if (mode is { } permissions && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, permissions);
            }
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            Cleanup(socket, bound, path);
            throw new ListenerBindException(uri, ex.SocketErrorCode, $"cannot listen on {uri}: permission denied (cannot create a file in '{directory}')", ex);
        }
        catch (SocketException ex)
        {
            Cleanup(socket, bound, path);
            throw new ListenerBindException(uri, ex.SocketErrorCode, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Cleanup(socket, bound, path);
            throw new ListenerBindException(uri, SocketError.AccessDenied, $"cannot listen on {uri}: cannot set its permissions: {ex.Message}", ex);
        }
    }

    /// <summary>Removes the socket file a listener created; a failure is logged, never thrown.</summary>
    public static void Remove(string path, string uri, ILogger logger)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ServerLog.UnixSocketRemoveFailed(logger, path, uri, ex.Message);
        }
    }

    private static void RemoveIfStale(string path, UnixDomainSocketEndPoint endPoint, string uri, ILogger logger)
    {
        if (!File.Exists(path))
        {
            return;
        }
        if (new FileInfo(path).Length > 0)
        {
            // Socket files are always empty: this is someone's data, not a leftover socket.
            throw new ListenerBindException(uri, SocketError.AddressAlreadyInUse, $"cannot listen on {uri}: '{path}' exists and is not a socket", null);
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Non-blocking: a live server with a full backlog answers EAGAIN instead of parking us.
        probe.Blocking = false;
        try
        {
            probe.Connect(endPoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Nobody listens: a previous run died without cleaning up. Safe to replace.
            File.Delete(path);
            ServerLog.UnixSocketReplaced(logger, path, uri);
            return;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
        {
            throw new ListenerBindException(uri, SocketError.AddressAlreadyInUse, $"cannot listen on {uri}: another server is listening on it", ex);
        }
        catch (SocketException ex)
        {
            throw new ListenerBindException(uri, ex.SocketErrorCode, ex);
        }
        throw new ListenerBindException(uri, SocketError.AddressAlreadyInUse, $"cannot listen on {uri}: another server is listening on it", null);
    }

    private static void Cleanup(Socket socket, bool bound, string path)
    {
        socket.Dispose();
        if (bound)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort: the bind failure being reported matters more than this leftover file.
            }
        }
    }
}
