using System.Net.Sockets;
using EchoKit.Internal;

namespace EchoKit.Server;

/// <summary>
/// The accept loop every listener shares (the echo listeners, the reflect service, the <c>echokit</c> metrics
/// endpoint): accept until stopped, hand each client over, and after a failed accept (EMFILE, ENOBUFS, a connection
/// reset while queued...) report it, wait and go on: 10 ms, doubling to at most 1 s, back to nothing after a
/// success. The listener lives; only cancelling its token ends the loop. Out of descriptors (EMFILE, ENFILE), the
/// process's few reserved descriptors are given up for the wait, so the runtime can still start the threads it needs,
/// and accepting resumes only once they are reserved again. Accepting also stops
/// <see cref="DescriptorReserve.Headroom"/> descriptors short of the limit, as if out of them, so that an accept failing
/// inside the runtime never leaves it without a descriptor to start a thread with.
/// </summary>
public static class AcceptLoop
{
    /// <param name="listener">The listening socket; closing it as part of stopping is expected.</param>
    /// <param name="accepted">Takes ownership of each accepted client; must not block.</param>
    /// <param name="failed">Reports a failed accept and the wait before the next try.</param>
    /// <param name="time">Clock for the waits.</param>
    /// <param name="stopping">Ends the loop.</param>
    /// <returns>A task that completes when <paramref name="stopping"/> is cancelled.</returns>
    public static async Task RunAsync(Socket listener, Action<Socket> accepted, Action<SocketException, TimeSpan> failed, TimeProvider time, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(failed);
        ArgumentNullException.ThrowIfNull(time);
        var backoff = new AcceptBackoff();
        DescriptorReserve.EnsureFilled();
        while (!stopping.IsCancellationRequested)
        {
            Socket? client = null;
            SocketException? error = null;
            if (!DescriptorReserve.MayAccept())
            {
                // Short of the descriptor limit by DescriptorReserve.Headroom: backing off as for EMFILE now, before an
                // accept fails inside the runtime, leaves the runtime the descriptors it needs to start a thread.
                error = new SocketException((int)SocketError.TooManyOpenSockets);
            }
            else
            {
                try
                {
                    client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                    backoff.Reset();
                }
                catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException or SocketException)
                {
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break; // the listener was closed (as part of a stop, or before its token was cancelled): it can never accept again
                }
                catch (SocketException ex)
                {
                    error = ex;
                }
            }
            if (error is not null)
            {
                while (true)
                {
                    if (DescriptorReserve.IsOutOfDescriptors(error.SocketErrorCode))
                    {
                        DescriptorReserve.Release();
                    }
                    var delay = backoff.Next();
                    failed(error, delay);
                    try
                    {
                        await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    if (DescriptorReserve.Refill())
                    {
                        break;
                    }
                    // Still out of descriptors (no client has left): accepting now would take the runtime's last ones.
                    error = new SocketException((int)SocketError.TooManyOpenSockets);
                }
                continue;
            }
            accepted(client!);
        }
    }
}
