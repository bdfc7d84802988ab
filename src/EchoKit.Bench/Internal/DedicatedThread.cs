namespace EchoKit.Bench.Internal;

/// <summary>
/// Runs a long-lived loop on a background thread of its own, not the thread pool, and hands back its completion: the
/// workers' epoll loops (they block in epoll_wait) and the runner's sample thread (it sleeps between looks, and a
/// pool thread would spin after each one on cores the server and the workers need).
/// </summary>
internal static class DedicatedThread
{
    /// <summary>Starts <paramref name="body"/> on a new background thread named <paramref name="name"/>; the task ends with it, faulted if it threw.</summary>
    public static Task Run(string name, Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }
}
