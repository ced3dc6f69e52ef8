namespace KernelMm.Harness.Scripting;

/// <summary><c>Kernel.Sysctl</c>: /proc/sys, named with dots (<c>vm.overcommit_memory</c>).</summary>
public sealed class SysctlFacade
{
    private readonly ScenarioRun _run;

    internal SysctlFacade(ScenarioRun run) => _run = run;

    /// <summary>
    /// Writes a number to /proc/sys/NAME; false where this combination has no such file. A
    /// value the file rejects (<c>vm.overcommit_memory</c> 3) throws EINVAL.
    /// </summary>
    public bool Write(string name, long value)
    {
        _run.Meter.Op("Kernel.Sysctl.Write");
        _run.KernelCall($"Kernel.Sysctl.Write(\"{name}\", {value})");
        return _run.Kernel.Sysctl.Write(name, value);
    }

    /// <summary>Reads /proc/sys/NAME: null where this combination has no such file; EACCES for a write-only one (<c>vm.free_ptes</c>).</summary>
    public long? Read(string name)
    {
        _run.Meter.Read();
        return _run.Kernel.Sysctl.Read(name);
    }
}
