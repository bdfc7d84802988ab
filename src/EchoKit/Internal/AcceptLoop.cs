using System.Net.Sockets;

namespace EchoKit.Internal;

/// <summary>
/// The accept loop every listener shares: accept until stopped, hand each client over, and after a failed accept
/// (EMFILE, ENOBUFS, a connection reset while queued...) report it, wait (<see cref="AcceptBackoff"/>) and go on:
/// the listener lives. Only cancelling its token ends it.
/// </summary>
internal static class AcceptLoop
{
    /// <param name="listener">The listening socket; closing it as part of stopping is expected.</param>
    /// <param name="accepted">Takes ownership of each accepted client; must not block.</param>
    /// <param name="failed">Reports a failed accept and the wait before the next try.</param>
    /// <param name="time">Clock for the waits.</param>
    /// <param name="stopping">Ends the loop.</param>
    public static async Task RunAsync(Socket listener, Action<Socket> accepted, Action<SocketException, TimeSpan> failed, TimeProvider time, CancellationToken stopping)
    {
        var backoff = new AcceptBackoff();
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                backoff.Reset();
            }
            catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex)
            {
                var delay = backoff.Next();
                failed(ex, delay);
                try
                {
                    await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            accepted(client);
        }
    }
}
