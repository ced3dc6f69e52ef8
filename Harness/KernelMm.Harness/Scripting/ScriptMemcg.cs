using KernelMm.Model;
using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>A memory cgroup as <c>Kernel.Memcg.Create</c> returns it.</summary>
public sealed class ScriptMemcg
{
    private readonly ScenarioRun _run;
    private readonly Kernel _kernel;

    internal ScriptMemcg(ScenarioRun run, Memcg memcg)
    {
        _run = run;
        _kernel = run.Kernel;
        Model = memcg;
        Stat = new Lookup(run.Meter, $"memory.stat of {memcg.Name}", () =>
        {
            CheckSameBoot("memory.stat");
            return Model.StatLines();
        });
    }

    public Memcg Model { get; }

    public string Name => Model.Name;

    /// <summary>memory.kmem.usage_in_bytes.</summary>
    public long KmemUsage
    {
        get
        {
            _run.Meter.Read();
            CheckSameBoot("memory.kmem.usage_in_bytes");
            return Model.KmemUsage;
        }
    }

    /// <summary>memory.usage_in_bytes.</summary>
    public long Usage
    {
        get
        {
            _run.Meter.Read();
            CheckSameBoot("memory.usage_in_bytes");
            return Model.Usage;
        }
    }

    /// <summary>memory.stat in bytes (<c>kernel</c>, <c>pagetables</c>...).</summary>
    public Lookup Stat { get; }

    public override string ToString() => Name;

    /// <summary>A cgroup of an earlier boot is gone, with the kernel: ENOENT, as for a removed cgroup's files.</summary>
    internal void CheckSameBoot(string call) => _run.CheckSameBoot(_kernel, call, Errno.ENOENT, $"memory cgroup {Name}");
}
