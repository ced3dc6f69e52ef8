using KernelMm.Model;
using KernelMm.Model.Stats;

namespace KernelMm.Harness.Scripting;

/// <summary>The <c>Kernel</c> global: the booted model as a script uses it, each call counted.</summary>
public sealed class KernelFacade
{
    private readonly ScenarioRun _run;

    internal KernelFacade(ScenarioRun run)
    {
        _run = run;
        var m = run.Meter;
        Vmstat = new Lookup(m, "/proc/vmstat", () => K.VmStat.Lines().Where(l => !IsEvent(l.Name)));
        Events = new Lookup(m, "/proc/vmstat (events)", () => K.VmStat.Lines().Where(l => IsEvent(l.Name)));
        Meminfo = new Lookup(m, "/proc/meminfo", () => K.Meminfo.Lines());
        SetMemory = new SetMemoryFacade(run);
        Sysctl = new SysctlFacade(run);
        Memcg = new MemcgFacade(run);
    }

    private Kernel K => _run.Kernel;

    private static bool IsEvent(string name) => Array.IndexOf(VmStat.vm_event_text, name) >= 0;

    /// <summary>/proc/vmstat counters (without the events), e.g. <c>Vmstat["nr_page_table_pages"]</c>.</summary>
    public Lookup Vmstat { get; }

    /// <summary>/proc/vmstat events, e.g. <c>Events["direct_map_level2_splits"]</c>.</summary>
    public Lookup Events { get; }

    /// <summary>/proc/meminfo in kB as printed, e.g. <c>Meminfo["DirectMap4k"]</c>.</summary>
    public Lookup Meminfo { get; }

    /// <summary>set_memory_ro/rw/nx/x/np/p/4k.</summary>
    public SetMemoryFacade SetMemory { get; }

    /// <summary>/proc/sys writes.</summary>
    public SysctlFacade Sysctl { get; }

    /// <summary>Memory cgroups.</summary>
    public MemcgFacade Memcg { get; }

    /// <summary>__va: the direct-map address of a page frame.</summary>
    public Addr DirectMapAddress(long pfn)
    {
        Op();
        return K.DirectMapAddress(pfn);
    }

    /// <summary>alloc_pages(GFP_KERNEL, order): the first pfn; ENOMEM when nothing is free.</summary>
    public long AllocPages(int order = 0)
    {
        Op();
        return K.AllocPages(order);
    }

    /// <summary>__free_pages.</summary>
    public void FreePages(long pfn, int order = 0)
    {
        Op();
        K.FreePages(pfn, order);
    }

    /// <summary>vmalloc: the address of a new area of <paramref name="bytes"/> (rounded up to pages).</summary>
    public Addr Vmalloc(long bytes)
    {
        Op();
        return K.Vmalloc.Vmalloc(bytes).Addr;
    }

    /// <summary>vfree.</summary>
    public void Vfree(ulong addr)
    {
        Op();
        K.Vmalloc.Vfree(addr);
    }

    /// <summary>load_module: text made read-only and executable (reaching its direct-map alias), data RW+NX.</summary>
    public ScriptModule LoadModule(long textBytes, long dataBytes)
    {
        Op();
        return new ScriptModule(_run, K.Vmalloc.LoadModule(textBytes, dataBytes));
    }

    /// <summary>Memory pressure: the shrinkers run as drop_slab runs them (priority 0, batches of 128), then lazily freed pages are reclaimed. Returns what was freed.</summary>
    public long Reclaim()
    {
        Op();
        return K.Reclaim();
    }

    /// <summary>
    /// The model itself, for what the facade does not cover (TLBs, page walks). Calls made
    /// on it are not counted, only this access is; the wall clock still applies.
    /// </summary>
    public Kernel Model
    {
        get
        {
            Op();
            return K;
        }
    }

    private LastCallName _lastCall = new("Kernel.");

    private void Op([System.Runtime.CompilerServices.CallerMemberName] string call = "")
    {
        string name = _lastCall.Get(call);
        _run.Meter.Op(name);
        _run.KernelCall(name);
    }
}
