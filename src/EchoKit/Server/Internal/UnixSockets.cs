using System.Net.Sockets;
using EchoKit.Internal;
using EchoKit.Internal.Linux;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>Binds Unix domain stream sockets, replacing a stale socket file only when nothing listens on it.</summary>
internal static class UnixSockets
{
    /// <summary>
    /// A listening socket at <paramref name="path"/> with permissions <paramref name="mode"/> (set before listen(),
    /// so no client connects through looser permissions), and the socket file it made, for the listener to remove when
    /// it stops. An existing file is removed only if it is a socket file and a connect to it is refused; a live socket,
    /// a regular file or a directory fails the bind, each with its own words (bind() says EADDRINUSE for all three, and
    /// ENOENT, which .NET reports as "address not available", for a missing directory).
    /// </summary>
    public static Socket BindAndListen(string path, UnixFileMode? mode, int backlog, string uri, ILogger logger, out UnixSocketFile file)
    {
        var endPoint = new UnixDomainSocketEndPoint(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new ListenerBindException(uri, SocketError.AddressNotAvailable, MissingDirectory(uri, directory), null);
        }
        RemoveIfStale(path, endPoint, uri, logger);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        UnixSocketFile? bound = null;
        try
        {
            socket.Bind(new UnixListenEndPoint(path));
            bound = UnixSocketFile.Bound(path);
            if (mode is { } permissions && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, permissions);
            }
            socket.Listen(backlog);
            file = bound;
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            Cleanup(socket, bound, uri, logger);
            throw new ListenerBindException(uri, ex.SocketErrorCode, $"cannot listen on {uri}: permission denied (cannot create a file in '{directory}')", ex);
        }
        catch (SocketException ex)
        {
            Cleanup(socket, bound, uri, logger);
            // The checks above ran before bind(): something may have appeared (or gone) since. Name it, not the errno.
            var message = ex.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse when Examine(path) is { } found && found != PathKind.Socket => NotASocket(uri, path, found),
                SocketError.AddressNotAvailable when directory is not null && !Directory.Exists(directory) => MissingDirectory(uri, directory),
                SocketError.AddressNotAvailable when directory is not null => $"cannot listen on {uri}: cannot create a file in '{directory}' (no such file or directory)",
                _ => null,
            };
            throw message is null ? new ListenerBindException(uri, ex.SocketErrorCode, ex) : new ListenerBindException(uri, ex.SocketErrorCode, message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Cleanup(socket, bound, uri, logger);
            throw new ListenerBindException(uri, SocketError.AccessDenied, $"cannot listen on {uri}: cannot set its permissions: {ex.Message}", ex);
        }
    }

    private static void RemoveIfStale(string path, UnixDomainSocketEndPoint endPoint, string uri, ILogger logger)
    {
        switch (Examine(path))
        {
            case null:
                return;
            case PathKind.Socket:
                break;
            case { } found:
                // Someone's file or directory, not a leftover socket: connect() to a regular file is refused as
                // to a dead socket, so only the file's type tells them apart.
                throw new ListenerBindException(uri, SocketError.AddressAlreadyInUse, NotASocket(uri, path, found), null);
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

    /// <summary>What is at <paramref name="path"/> (the path itself: a symbolic link is not followed); null for nothing.</summary>
    private static PathKind? Examine(string path)
    {
        if (Libc.IsSupported)
        {
            var error = Libc.FileType(path, out var type);
            if (error == 0)
            {
                return type switch
                {
                    Libc.S_IFSOCK => PathKind.Socket,
                    Libc.S_IFDIR => PathKind.Directory,
                    _ => PathKind.Other, // a regular file, a link, a pipe, a device
                };
            }
            if (error is Errno.ENOENT or Errno.ENOTDIR)
            {
                return null;
            }
            // Not allowed to look (EACCES...): bind() will say so; fall back to what .NET can see.
        }
        if (Directory.Exists(path))
        {
            return PathKind.Directory;
        }
        if (!File.Exists(path))
        {
            return null;
        }
        // Without statx() a socket and a regular file look alike to .NET; socket files are always empty, so a file
        // with data is someone's.
        return new FileInfo(path).Length > 0 ? PathKind.Other : PathKind.Socket;
    }

    private static string NotASocket(string uri, string path, PathKind found) => found == PathKind.Directory
        ? $"cannot listen on {uri}: '{path}' is a directory"
        : $"cannot listen on {uri}: '{path}' exists and is not a socket";

    private static string MissingDirectory(string uri, string directory) => File.Exists(directory)
        ? $"cannot listen on {uri}: '{directory}' is not a directory"
        : $"cannot listen on {uri}: no such directory: '{directory}'";

    private enum PathKind
    {
        Socket,
        Directory,
        Other,
    }

    private static void Cleanup(Socket socket, UnixSocketFile? bound, string uri, ILogger logger)
    {
        socket.Dispose();
        // Best effort, logged if it fails: the bind failure being reported matters more than a leftover file.
        bound?.Remove(uri, logger);
    }
}
