using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>A memory cgroup as <c>Kernel.Memcg.Create</c> returns it.</summary>
public sealed class ScriptMemcg
{
    private readonly ScenarioRun _run;

    internal ScriptMemcg(ScenarioRun run, Memcg memcg)
    {
        _run = run;
        Model = memcg;
        Stat = new Lookup(run.Meter, $"memory.stat of {memcg.Name}", () => Model.StatLines());
    }

    public Memcg Model { get; }

    public string Name => Model.Name;

    /// <summary>memory.kmem.usage_in_bytes.</summary>
    public long KmemUsage
    {
        get
        {
            _run.Meter.Op();
            return Model.KmemUsage;
        }
    }

    /// <summary>memory.usage_in_bytes.</summary>
    public long Usage
    {
        get
        {
            _run.Meter.Op();
            return Model.Usage;
        }
    }

    /// <summary>memory.stat in bytes (<c>kernel</c>, <c>pagetables</c>...).</summary>
    public Lookup Stat { get; }

    public override string ToString() => Name;
}
