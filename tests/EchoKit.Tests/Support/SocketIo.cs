using System.Net.Sockets;

namespace EchoKit.Tests.Support;

/// <summary>Reads and writes exactly, with timeouts, for tests talking to a server by hand.</summary>
internal static class SocketIo
{
    public static Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data) => SendAllAsync(socket, data, TestTimeouts.Token());

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails if the peer closes first.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        var token = TestTimeouts.Token();
        var buffer = new byte[count];
        var offset = 0;
        while (offset < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None, token);
            if (read == 0)
            {
                throw new EndOfStreamException($"peer closed after {offset} of {count} bytes");
            }
            offset += read;
        }
        return buffer;
    }

    /// <summary>Reads until the peer closes; returns everything read.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(Socket socket)
    {
        var token = TestTimeouts.Token();
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
            if (read == 0)
            {
                return all.ToArray();
            }
            all.Write(buffer, 0, read);
        }
    }

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
