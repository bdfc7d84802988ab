using System.Runtime.InteropServices;

namespace EchoKit.Cli.Hosting;

/// <summary>
/// Whether standard input, output and error (descriptors 0, 1, 2) are the ones the program was started with. Started
/// with one closed (<c>&lt;&amp;-</c>, <c>&gt;&amp;-</c>), a program finds it open all the same: the .NET runtime makes a
/// pipe while it starts (in <c>coreclr_initialize</c>, long before <c>Main</c>), and a new descriptor takes the lowest
/// free number. Reading that "standard input" waits for ever, and with 0 and 1 both closed, writing "standard output"
/// writes into the runtime's own pipe. The runtime's descriptors are told apart by close-on-exec: it makes all of its
/// own with FD_CLOEXEC, and an inherited descriptor never has it (exec would have closed it). Nothing in EchoKit sets
/// it on 0-2 (.NET's console streams use duplicates), and the flags are read once, first thing in <c>Main</c>.
/// </summary>
internal static partial class InheritedDescriptors
{
    private const int F_GETFD = 1;
    private const int FD_CLOEXEC = 1;

    // The CLI's one libc call: the library's declarations (src/Shared/Linux) are internal to it, and compiling them in
    // here too would give the tests, which see both assemblies' internals, two of each type.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    private static readonly bool[] Open = [IsInherited(0), IsInherited(1), IsInherited(2)];

    /// <summary>True for standard input when the program was started with it open.</summary>
    public static bool Input => Open[0];

    /// <summary>True for standard output when the program was started with it open.</summary>
    public static bool Output => Open[1];

    /// <summary>True for standard error when the program was started with it open.</summary>
    public static bool Error => Open[2];

    /// <summary>Reads the flags now; called first thing in Main, before anything could open a descriptor.</summary>
    public static void Capture() => _ = Open;

    private static bool IsInherited(int fd)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return true; // no fd 0-2 reuse to fear there
        }
        var flags = Fcntl(fd, F_GETFD, 0);
        // -1 (EBADF): closed, and nothing took its number; FD_CLOEXEC: the runtime's, not ours.
        return flags >= 0 && (flags & FD_CLOEXEC) == 0;
    }
}
