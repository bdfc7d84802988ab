namespace EchoKit.Tests.Lab;

/// <summary>A test that needs the namespace lab: skipped, with the reason netlab.sh gives, where no lab can be built.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        if (NetLab.SkipReason is { } reason)
        {
            Skip = $"namespace lab unavailable: {reason}";
        }
    }
}
