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
            CheckFile("memory.stat");
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
            CheckFile("memory.kmem.usage_in_bytes");
            return Model.KmemUsage;
        }
    }

    /// <summary>memory.usage_in_bytes.</summary>
    public long Usage
    {
        get
        {
            _run.Meter.Read();
            CheckFile("memory.usage_in_bytes");
            return Model.Usage;
        }
    }

    /// <summary>memory.stat in bytes (<c>kernel</c>, <c>pagetables</c>...).</summary>
    public Lookup Stat { get; }

    /// <summary>
    /// <c>echo PID &gt; cgroup.procs</c>: moves <paramref name="process"/> into this cgroup. Its
    /// new charges come here; what it has charged stays with its old cgroup (and is uncharged
    /// there when freed), unless <see cref="MoveChargeAtImmigrate"/> has bit 0 (MOVE_ANON): then
    /// its mapped anonymous pages charged to the old cgroup move here, never its kmem. Returns
    /// the pages whose charge moved. ESRCH for a process that exited (or of an earlier boot),
    /// ENODEV once this cgroup is removed.
    /// </summary>
    public long Attach(ScriptProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        Op("cgroup.procs");
        process.CheckSameBoot("cgroup.procs");
        _run.KernelCall($"{process.Pid}: {Name}.Attach: the host process is in no such cgroup");
        return _kernel.Memcgs.Attach(process.Model, Model);
    }

    /// <summary>memory.move_charge_at_immigrate (v1): 0 (default), 1 MOVE_ANON, 2 MOVE_FILE (no file pages in the model), 3; EINVAL for other bits.</summary>
    public long MoveChargeAtImmigrate
    {
        get
        {
            _run.Meter.Read();
            CheckFile("memory.move_charge_at_immigrate");
            return Model.MoveChargeAtImmigrate;
        }
        set
        {
            Op("memory.move_charge_at_immigrate");
            _run.KernelCall($"{Name}.MoveChargeAtImmigrate = {value}: a cgroup v1 knob");
            _kernel.Memcgs.SetMoveChargeAtImmigrate(Model, value);
        }
    }

    /// <summary>rmdir: EBUSY while a live process is in it. Its files then fail with ENODEV; pages still charged to it keep it, dying (the snapshot shows it so), and are uncharged from it.</summary>
    public void Rmdir()
    {
        Op("rmdir");
        _run.KernelCall($"rmdir {Name}: a cgroup");
        _kernel.Memcgs.Rmdir(Model);
    }

    /// <summary>True until <see cref="Rmdir"/>.</summary>
    public bool Online
    {
        get
        {
            _run.Meter.Read();
            return Model.Online;
        }
    }

    public override string ToString() => Name;

    /// <summary>A cgroup of an earlier boot is gone, with the kernel: ENOENT, as for a path that no longer exists.</summary>
    internal void CheckSameBoot(string call) => _run.CheckSameBoot(_kernel, call, Errno.ENOENT, $"memory cgroup {Name}");

    // The files of a removed cgroup: ENODEV (kernfs_get_active fails on an open file of a removed node).
    private void CheckFile(string call)
    {
        CheckSameBoot(call);
        if (!Model.Online)
            throw new KernelErrnoException(call, Errno.ENODEV, $"memory cgroup {Name} was removed");
    }

    private void Op(string call)
    {
        _run.Meter.Op(call);
        CheckSameBoot(call);
    }
}
