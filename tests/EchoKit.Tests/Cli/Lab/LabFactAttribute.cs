namespace EchoKit.Tests.Lab;

/// <summary>
/// A test that needs the namespace lab: skipped, with the reason netlab.sh gives, where no lab can be built; with
/// <c>ipv6: true</c> (a lab built with <c>--ipv6</c>) also where the host has IPv6 turned off.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute(bool ipv6 = false)
    {
        if (NetLab.SkipReason is { } reason)
        {
            Skip = $"namespace lab unavailable: {reason}";
        }
        else if (ipv6 && !Directory.Exists("/proc/sys/net/ipv6"))
        {
            Skip = "namespace lab unavailable: IPv6 is turned off on this host (no /proc/sys/net/ipv6)";
        }
    }
}
