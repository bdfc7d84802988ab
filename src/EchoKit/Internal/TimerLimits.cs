namespace EchoKit.Internal;

/// <summary>
/// The longest duration any option of the library takes, checked when its options are validated rather than met as an
/// exception from a timer later (at shutdown, mid-run). .NET's timers, <c>Task.Delay</c> and <c>CancelAfter</c> throw
/// beyond 2^32-2 ms (49.7 days) and socket timeouts beyond <see cref="int.MaxValue"/> ms (24.8 days); 24 days stays
/// under both. The command line's duration parser enforces the same bound on every duration option.
/// </summary>
internal static class TimerLimits
{
    /// <summary>24 days.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(24);
}
