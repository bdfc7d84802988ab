using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// Names the client of a Unix socket for the log. Such clients rarely bind a path, so on Linux the kernel's
/// SO_PEERCRED (process, user and group ids at connect time) says who it is: <c>unix:pid=412,uid=1000</c>.
/// </summary>
internal static class UnixPeer
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static string Describe(Socket client)
    {
        if (client.RemoteEndPoint is UnixDomainSocketEndPoint { } endPoint && endPoint.ToString() is { Length: > 0 } path)
        {
            return "unix:" + PeerText.Field(path); // the client chose the path
        }
        if (OperatingSystem.IsLinux())
        {
            Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            try
            {
                if (client.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == 12)
                {
                    var pid = MemoryMarshal.Read<int>(credentials);          // native byte order, as the kernel wrote it
                    var uid = MemoryMarshal.Read<uint>(credentials[4..]);
                    return string.Create(CultureInfo.InvariantCulture, $"unix:pid={pid},uid={uid}");
                }
            }
            catch (SocketException)
            {
                // No credentials to show: fall back to the bare scheme below.
            }
        }
        return "unix:unnamed";
    }

    /// <summary>The same for a client accepted natively: its <c>sockaddr_un</c> as accept4() wrote it, then SO_PEERCRED.</summary>
    public static string Describe(int fd, ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length > 2)
        {
            var path = sockaddr[2..];
            if (path[0] == 0)
            {
                // An abstract name, shown as .NET shows it.
                return "unix:" + PeerText.Field("@" + Encoding.UTF8.GetString(path[1..]));
            }
            var end = path.IndexOf((byte)0);
            return "unix:" + PeerText.Field(Encoding.UTF8.GetString(end < 0 ? path : path[..end]));
        }
        Span<byte> credentials = stackalloc byte[12];
        var length = 12u;
        if (Libc.GetSockOptBytes(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, ref credentials[0], ref length) == 0 && length == 12)
        {
            var pid = MemoryMarshal.Read<int>(credentials);
            var uid = MemoryMarshal.Read<uint>(credentials[4..]);
            return string.Create(CultureInfo.InvariantCulture, $"unix:pid={pid},uid={uid}");
        }
        return "unix:unnamed";
    }
}
