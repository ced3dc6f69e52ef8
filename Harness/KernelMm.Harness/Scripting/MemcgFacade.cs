namespace KernelMm.Harness.Scripting;

/// <summary><c>Kernel.Memcg</c>: creating memory cgroups.</summary>
public sealed class MemcgFacade
{
    private readonly ScenarioRun _run;

    internal MemcgFacade(ScenarioRun run) => _run = run;

    /// <summary>mkdir of a memory cgroup; processes spawned into it are charged to it.</summary>
    public ScriptMemcg Create(string name)
    {
        _run.Meter.Op("Kernel.Memcg.Create");
        _run.KernelCall("Kernel.Memcg.Create");
        return new ScriptMemcg(_run, _run.Kernel.Memcgs.Create(name));
    }
}
