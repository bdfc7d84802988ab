using EchoKit.Internal;
using Microsoft.Extensions.Logging;

namespace EchoKit.Server.Internal;

/// <summary>
/// Closes idle connections with one timer per server instead of one per connection: each connection only stamps
/// the time of its last read or write (a plain write, no allocation, no timer reset per message), and the sweep
/// compares. A connection closes between the timeout and the timeout plus one sweep period.
/// </summary>
internal sealed class IdleSweeper : IAsyncDisposable
{
    private readonly ITimer _timer;

    public IdleSweeper(ConnectionTracker tracker, TimeSpan idleTimeout, TimeProvider time, ILogger logger)
    {
        var idleTicks = (long)(idleTimeout.TotalSeconds * time.TimestampFrequency);
        var period = PeriodFor(idleTimeout);
        _timer = time.CreateTimer(_ =>
        {
            try
            {
                tracker.CloseIdle(time.GetTimestamp(), idleTicks);
            }
            catch (Exception ex)
            {
                // A timer callback must not throw (it would end the process); a failed sweep is retried next period.
                ServerLog.IdleSweepFault(logger, ex);
            }
        }, null, period, period);
    }

    /// <summary>A quarter of the timeout, from 25 ms to 1 s: precise enough, and cheap for long timeouts.</summary>
    public static TimeSpan PeriodFor(TimeSpan idleTimeout) =>
        TimeSpan.FromTicks(Math.Clamp(idleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(25).Ticks, TimeSpan.FromSeconds(1).Ticks));

    /// <summary>Stops the sweep; completes once no sweep is running.</summary>
    public ValueTask DisposeAsync() => _timer.DisposeAsync();
}
