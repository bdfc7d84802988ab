using System.Net.Sockets;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// Extra <see cref="Socket"/> objects on one bound socket: each UDP receive loop gets its own over a duplicate of
/// the descriptor (same kernel socket, same queue), so the loops share the datagrams but not a handle: every socket
/// call takes a reference on its handle, and one handle shared by several threads would be one contended cache line.
/// (It also keeps each object's cached event-args to one user, should a loop ever use the asynchronous calls.)
/// </summary>
internal static class SocketHandles
{
    /// <summary>True where <see cref="Duplicate"/> works (Linux); elsewhere the loops share one object, which is safe.</summary>
    public static bool CanDuplicate => OperatingSystem.IsLinux();

    /// <summary>A new <see cref="Socket"/> on a duplicate of <paramref name="socket"/>'s descriptor (close-on-exec).</summary>
    public static Socket Duplicate(Socket socket)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var copy = Libc.Duplicate(fd);
        if (copy < 0)
        {
            throw new SocketException((int)Errno.ToSocketError(-copy));
        }
        try
        {
            return new Socket(new SafeSocketHandle((IntPtr)copy, ownsHandle: true));
        }
        catch
        {
            Libc.CloseQuietly(copy);
            throw;
        }
    }
}
