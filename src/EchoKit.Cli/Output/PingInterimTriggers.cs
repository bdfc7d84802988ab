using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EchoKit.Cli.Output;

/// <summary>
/// Asks for an interim summary without stopping: on SIGQUIT (Ctrl+\), as iputils ping does, and on Enter when
/// standard input is a terminal.
/// </summary>
internal sealed class PingInterimTriggers : IDisposable
{
    private readonly PosixSignalRegistration? _quit;

    public PingInterimTriggers(Action show)
    {
        if (!OperatingSystem.IsWindows())
        {
            _quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context =>
            {
                // SIGQUIT would otherwise end the process (with a core dump).
                context.Cancel = true;
                show();
            });
        }
        if (!Console.IsInputRedirected)
        {
            // A terminal read cannot be cancelled, so it runs on a background thread that the process leaves
            // behind at exit instead of on a task someone must await. Reading fd 0 directly keeps the terminal's
            // own line editing (Console's reader would switch it off).
            var reader = new Thread(() => WatchForEnter(show)) { IsBackground = true, Name = "ping-enter" };
            reader.Start();
        }
    }

    private static void WatchForEnter(Action show)
    {
        try
        {
            using var stdin = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
            var buffer = new byte[256];
            int read;
            while ((read = stdin.Read(buffer)) > 0)
            {
                if (buffer.AsSpan(0, read).Contains((byte)'\n'))
                {
                    show();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No usable terminal input: Enter simply does nothing.
        }
    }

    public void Dispose() => _quit?.Dispose();
}
