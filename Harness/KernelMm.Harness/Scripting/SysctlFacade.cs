namespace KernelMm.Harness.Scripting;

/// <summary><c>Kernel.Sysctl</c>: writes to /proc/sys.</summary>
public sealed class SysctlFacade
{
    private readonly ScenarioRun _run;

    internal SysctlFacade(ScenarioRun run) => _run = run;

    /// <summary>Writes a number to /proc/sys/NAME (dots for slashes); false where this combination has no such file.</summary>
    public bool Write(string name, long value)
    {
        _run.Meter.Op();
        return _run.Kernel.Sysctl.Write(name, value);
    }
}
