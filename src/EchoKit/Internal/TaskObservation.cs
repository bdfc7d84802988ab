namespace EchoKit.Internal;

/// <summary>Awaits a task and hands back its failure instead of throwing, so two sides can be joined and judged together.</summary>
internal static class TaskObservation
{
    /// <summary>Waits for <paramref name="task"/>; null when it succeeded, its exception otherwise.</summary>
    public static async Task<Exception?> ObserveAsync(this Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
