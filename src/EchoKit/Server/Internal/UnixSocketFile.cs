using EchoKit.Internal.Linux;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// The socket file a Unix listener bound, named by its identity (device and inode, read right after bind()) as well
/// as its path, so that the listener removes its own file and nothing else: not a regular file someone put at the path
/// while the server ran, not the live socket of a server that took the path over during a rolling restart. Removed at
/// most once, however often stop and dispose ask.
/// </summary>
internal sealed class UnixSocketFile
{
    private readonly Libc.FileIdentity? _identity;
    private int _removed;

    private UnixSocketFile(string path, Libc.FileIdentity? identity)
    {
        Path = path;
        _identity = identity;
    }

    public string Path { get; }

    /// <summary>The file just bound at <paramref name="path"/>. Without statx() (not Linux) there is no identity, only the file's type.</summary>
    public static UnixSocketFile Bound(string path) =>
        new(path, Libc.IsSupported && Libc.FileType(path, out var type, out var identity) == 0 && type == Libc.S_IFSOCK ? identity : null);

    /// <summary>
    /// Unlinks the path if it is still this socket file; a failure is logged, never thrown. Between the check and the
    /// unlink another process could still swap the file: the window is a system call wide, and only a process allowed
    /// to write the directory can use it.
    /// </summary>
    public void Remove(string uri, ILogger logger)
    {
        if (Interlocked.Exchange(ref _removed, 1) != 0 || !IsStillOurs())
        {
            return;
        }
        try
        {
            File.Delete(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ServerLog.UnixSocketRemoveFailed(logger, Path, uri, ex.Message);
        }
    }

    private bool IsStillOurs()
    {
        if (Libc.IsSupported)
        {
            // Gone (ENOENT), replaced or unreadable: not ours to remove.
            return Libc.FileType(Path, out var type, out var identity) == 0 && type == Libc.S_IFSOCK && _identity == identity;
        }
        // Without statx() a socket file and an empty regular file look alike to .NET; a file with data is someone's.
        return File.Exists(Path) && new FileInfo(Path).Length == 0;
    }
}
