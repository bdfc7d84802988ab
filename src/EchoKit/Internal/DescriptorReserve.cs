using System.Net.Sockets;
using EchoKit.Internal.Linux;
using Microsoft.Win32.SafeHandles;

namespace EchoKit.Internal;

/// <summary>
/// A few descriptors held back for the runtime, given up when accepts run out of descriptors (EMFILE, ENFILE) and taken
/// back before accepting again. Once a process has no descriptor left, the .NET runtime cannot start a thread (a new
/// thread opens a pipe as it starts; strace shows <c>pipe2</c> failing with EMFILE) and ends the process with "Out of
/// memory." The thread pool starts threads when
/// it likes (a back-off timer's callback, a connection's continuation, a stop signal's handler), so a server that
/// fills its descriptor table with clients would be killed by its own runtime instead of backing off. With the reserve
/// closed, those threads start. Accepting resumes after the back-off only once clients have left enough descriptors free
/// to refill the reserve and leave some to spare (counted in <c>/proc/self/fd</c>, not grabbed to find out), so the last
/// descriptors are never the ones clients take. Process-wide, as the limit is: every accept loop
/// shares one. Opening <c>/dev/null</c> costs a descriptor and nothing else.
/// </summary>
internal static class DescriptorReserve
{
    /// <summary>Descriptors held back: enough for several threads to start (a pipe, two descriptors, each).</summary>
    public const int Size = 16;

    private static readonly Lock s_lock = new();
    private static readonly List<SafeFileHandle> s_held = [];
    private static bool s_filled;

    /// <summary>True for the accept failures that mean "no descriptor left" (EMFILE, ENFILE).</summary>
    public static bool IsOutOfDescriptors(SocketError error) => error == SocketError.TooManyOpenSockets;

    /// <summary>Fills the reserve (the first time, or what a stopped server left given up); called when an accept loop starts.</summary>
    public static void EnsureFilled()
    {
        lock (s_lock)
        {
            s_filled = true;
            FillLocked();
        }
    }

    /// <summary>Closes the reserve: an accept found no descriptor left. Safe from any thread, harmless twice.</summary>
    public static void Release()
    {
        lock (s_lock)
        {
            foreach (var handle in s_held)
            {
                handle.Dispose();
            }
            s_held.Clear();
        }
    }

    /// <summary>
    /// Takes back what the reserve gave up, as far as descriptors are free; called before accepting again. False while
    /// it is not whole: then the process is still out of descriptors, and accepting would only take the last ones.
    /// </summary>
    public static bool Refill()
    {
        lock (s_lock)
        {
            if (!s_filled || s_held.Count == Size)
            {
                return true;
            }
            // Counted, not grabbed to find out; listing them takes one descriptor, which the given-up reserve left free.
            if (Libc.Descriptors() is { } descriptors && descriptors.Free < Size - s_held.Count + Spare)
            {
                // Only the descriptors the reserve gave up are free: taking them back would leave none for a thread
                // that starts right now (the back-off timer's own pool thread may be starting one), and accepting
                // would end at EMFILE at once. Stay given up.
                return false;
            }
            return FillLocked();
        }
    }

    /// <summary>Free descriptors beyond the reserve that must be there before it is refilled and accepting resumes.</summary>
    private const int Spare = 16;

    /// <summary>
    /// Descriptors that accepting never takes: accept loops stop this many short of the limit (as nginx's
    /// <c>worker_connections</c> stops short of it), besides the reserve. An accept that fails with EMFILE is not
    /// always seen by our code before the runtime needs a descriptor: on the sockets engine the runtime's own event
    /// thread sees the failure and hands it to a pool thread, which it may have to start, and with the table full that
    /// start ends the process before the reserve can be given up. Stopping short leaves that start its descriptors.
    /// </summary>
    public const int Headroom = 32;

    // Accepts still allowed before /proc/self/fd is counted again: half the room left at the last count, so the count
    // is read a logarithmic number of times as the table fills, every time only near the limit, and anything else the
    // process opens meanwhile (another listener's clients, outgoing sockets, files) is caught at the next count.
    private static long s_budget;

    /// <summary>
    /// True when an accept may take one more descriptor and still leave <see cref="Headroom"/> free; false when the
    /// process is that close to its limit (then the caller backs off as for EMFILE). Safe from any thread; cheap except
    /// when the budget runs out, which reads <c>/proc/self/fd</c>.
    /// </summary>
    public static bool MayAccept()
    {
        if (Interlocked.Decrement(ref s_budget) >= 0)
        {
            return true;
        }
        lock (s_lock)
        {
            if (Libc.Descriptors() is not { } descriptors)
            {
                Volatile.Write(ref s_budget, long.MaxValue / 2); // no limit to read here: accept, and let EMFILE speak
                return true;
            }
            var room = descriptors.Free - Headroom;
            Volatile.Write(ref s_budget, room / 2 - 1);
            return room > 0;
        }
    }

    private static bool FillLocked()
    {
        if (OperatingSystem.IsWindows())
        {
            return true; // handles there are not a small per-process table that a thread start needs
        }
        while (s_held.Count < Size)
        {
            try
            {
                s_held.Add(File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read));
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                return true; // no /dev/null to open here: no reserve, as before it existed
            }
            catch (IOException)
            {
                return false; // no descriptor free now (EMFILE, ENFILE): the rest is taken at the next refill
            }
        }
        return true;
    }
}
