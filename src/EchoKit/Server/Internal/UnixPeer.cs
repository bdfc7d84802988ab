using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

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
}
