using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EchoKit.Internal.Linux;

namespace EchoKit.Server.Internal;

/// <summary>
/// Names the client of a Unix socket for the log and the metrics, by what the kernel says of it: on Linux SO_PEERCRED
/// (process and user ids at connect time), <c>unix:pid=412,uid=1000</c>; elsewhere <c>unix:unnamed</c>. Never by the
/// name the client bound its own socket to: a client chooses that name, and one bound to <c>pid=1,uid=0</c> would
/// pose as root. Its address is not even read (.NET's conversion of a long one threw).
/// </summary>
internal static class UnixPeer
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int CredentialsSize = 12; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }

    public static string Describe(Socket client)
    {
        if (OperatingSystem.IsLinux())
        {
            Span<byte> credentials = stackalloc byte[CredentialsSize];
            try
            {
                if (client.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == CredentialsSize)
                {
                    return Format(credentials);
                }
            }
            catch (SocketException)
            {
                // No credentials to show: fall back to the bare scheme below.
            }
        }
        return "unix:unnamed";
    }

    /// <summary>The same for a client accepted natively, by its descriptor.</summary>
    public static string Describe(int fd)
    {
        Span<byte> credentials = stackalloc byte[CredentialsSize];
        var length = (uint)CredentialsSize;
        return Libc.GetSockOptBytes(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, ref credentials[0], ref length) == 0 && length == CredentialsSize
            ? Format(credentials)
            : "unix:unnamed";
    }

    private static string Format(ReadOnlySpan<byte> credentials)
    {
        var pid = MemoryMarshal.Read<int>(credentials);          // native byte order, as the kernel wrote it
        var uid = MemoryMarshal.Read<uint>(credentials[4..]);
        return string.Create(CultureInfo.InvariantCulture, $"unix:pid={pid},uid={uid}");
    }
}
