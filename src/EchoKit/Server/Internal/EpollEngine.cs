using System.Net.Sockets;
using EchoKit.Internal;
using EchoKit.Internal.Linux;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// The native epoll engine of one server: <see cref="EchoServerOptions.IoThreads"/> event loops, each on its own
/// thread with one receive buffer shared by all its connections. The listeners' accept loops hand each accepted
/// (and admitted) connection to the next loop in turn; from then on only that loop touches its descriptor.
/// </summary>
internal sealed class EpollEngine : IDisposable
{
    private readonly EpollIoLoop[] _loops;
    private int _next = -1;

    public EpollEngine(int loops, int bufferSize, ILogger logger)
    {
        _loops = new EpollIoLoop[loops];
        try
        {
            for (var i = 0; i < loops; i++)
            {
                _loops[i] = new EpollIoLoop(new EventLoop($"echokit-epoll-{i}")
                {
                    OnFault = ex => ServerLog.AcceptFault(logger, "epoll", ex),
                }, bufferSize);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        foreach (var loop in _loops)
        {
            loop.Loop.Start();
        }
    }

    /// <summary>Event loops (threads).</summary>
    public int LoopCount => _loops.Length;

    /// <summary>The loop the next connection goes to (round robin).</summary>
    public EpollIoLoop NextLoop() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>
    /// Takes a non-blocking duplicate of an accepted socket's descriptor and closes the managed socket: from here
    /// the descriptor belongs to a loop. Throws <see cref="SocketException"/> when the socket is already gone.
    /// </summary>
    public static int TakeDescriptor(Socket socket)
    {
        int fd;
        try
        {
            fd = Libc.Duplicate((int)socket.SafeHandle.DangerousGetHandle());
        }
        finally
        {
            socket.Dispose();
        }
        if (fd < 0)
        {
            throw new SocketException((int)Errno.ToSocketError(-fd));
        }
        var error = Libc.SetNonBlocking(fd);
        if (error != 0)
        {
            Libc.CloseQuietly(fd);
            throw new SocketException((int)Errno.ToSocketError(error));
        }
        return fd;
    }

    /// <summary>Stops the loops; call once every connection has closed (the server's stop order ensures it).</summary>
    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop?.Dispose();
        }
    }
}
