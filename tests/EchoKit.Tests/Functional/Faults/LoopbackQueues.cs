using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EchoKit.Tests.Faults;

/// <summary>
/// What the kernel holds for a server-side IPv4 TCP socket (/proc/net/tcp): lets a test wait until the server has
/// read every byte a client sent, an event the server exposes no other way.
/// </summary>
internal static class LoopbackQueues
{
    /// <summary>Waits until the server end of <paramref name="client"/>'s connection has nothing left unread.</summary>
    public static Task WaitUntilServerReadAllAsync(Socket client) =>
        Support.TestTimeouts.WaitUntilAsync(() => ServerReceiveQueue(client) == 0, $"the server read all that {client.LocalEndPoint} sent");

    /// <summary>Bytes waiting in the server's receive queue for this client's connection, or -1 when it is not listed.</summary>
    public static long ServerReceiveQueue(Socket client)
    {
        var local = (IPEndPoint)client.LocalEndPoint!;
        var remote = (IPEndPoint)client.RemoteEndPoint!;
        // The server's socket: its local end is the client's remote end, and the other way round.
        var serverLocal = Hex(remote);
        var serverRemote = Hex(local);
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 4 && fields[1] == serverLocal && fields[2] == serverRemote)
            {
                var queues = fields[4].Split(':');
                return long.Parse(queues[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    // /proc/net/tcp prints an IPv4 address as the 32-bit value in host (little-endian) order, then the port.
    private static string Hex(IPEndPoint endPoint)
    {
        var bytes = endPoint.Address.MapToIPv4().GetAddressBytes();
        var value = BitConverter.ToUInt32(bytes);
        return $"{value:X8}:{endPoint.Port:X4}";
    }
}
