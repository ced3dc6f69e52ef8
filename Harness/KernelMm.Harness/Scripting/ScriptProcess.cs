using KernelMm.Model;
using KernelMm.Harness.Oracle;
using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>A process as <c>Spawn</c> and <c>Fork</c> return it: the model's process with each call counted.</summary>
public sealed class ScriptProcess
{
    private readonly ScenarioRun _run;
    private readonly Kernel _kernel;

    internal ScriptProcess(ScenarioRun run, Process process)
    {
        _run = run;
        _kernel = run.Kernel;
        Model = process;
        Status = new Lookup(run.Meter, $"/proc/{process.Pid}/status", StatusLines);
    }

    /// <summary>The model's process.</summary>
    public Process Model { get; }

    public int Pid => Model.Pid;
    public string Comm => Model.Comm;
    public bool Alive => Model.Alive;

    /// <summary>/proc/PID/status memory lines in kB (<c>VmPTE</c>, <c>VmRSS</c>...).</summary>
    public Lookup Status { get; }

    /// <summary>Anonymous private mmap; returns the address. <paramref name="at"/> alone is MAP_FIXED (replacing); <see cref="MapFlags"/> adds MAP_NORESERVE, MAP_POPULATE, MAP_LOCKED, MAP_FIXED_NOREPLACE.</summary>
    public Addr Mmap(long length, Prot prot = Prot.Read | Prot.Write, ulong? at = null, MapFlags flags = MapFlags.None)
    {
        Op("mmap");
        var call = new ReplayCall(ReplayKind.Mmap, Pid, $"{Pid}: Mmap({length}, {prot}{(at is { } a ? $", at: 0x{a:x}" : "")}{(flags != MapFlags.None ? $", {flags}" : "")})")
        {
            Addr = at ?? 0, Length = length, Arg = (long)prot,
            Arg2 = (long)flags | (at is not null && (flags & MapFlags.FixedNoReplace) == 0 ? MAP_FIXED : 0),
        };
        return (ulong)Traced(call, () => (long)Model.Mmap(length, prot, at, flags));
    }

    /// <summary>mremap: shrink, grow in place, or move (<see cref="MremapFlags.MayMove"/>, <see cref="MremapFlags.Fixed"/> with <paramref name="newAddr"/>); returns the mapping's address.</summary>
    public Addr Mremap(ulong addr, long oldLength, long newLength, MremapFlags flags = MremapFlags.None, ulong? newAddr = null)
    {
        Op("mremap");
        var call = new ReplayCall(ReplayKind.Mremap, Pid,
            $"{Pid}: Mremap(0x{addr:x}, {oldLength}, {newLength}{(flags != MremapFlags.None ? $", {flags}" : "")}{(newAddr is { } n ? $", newAddr: 0x{n:x}" : "")})")
        {
            Addr = addr, Length = oldLength, Arg = (long)flags, Arg2 = newLength, Arg3 = newAddr ?? 0,
        };
        return (ulong)Traced(call, () => (long)Model.Mremap(addr, oldLength, newLength, flags, newAddr));
    }

    /// <summary>mlock: VM_LOCKED (VmLck) and the range faulted in.</summary>
    public void Mlock(ulong addr, long length)
    {
        Op("mlock");
        Traced(new ReplayCall(ReplayKind.Mlock, Pid, $"{Pid}: Mlock(0x{addr:x}, {length})") { Addr = addr, Length = length },
            () => { Model.Mlock(addr, length); return 0; });
    }

    /// <summary>munlock: VM_LOCKED cleared.</summary>
    public void Munlock(ulong addr, long length)
    {
        Op("munlock");
        Traced(new ReplayCall(ReplayKind.Munlock, Pid, $"{Pid}: Munlock(0x{addr:x}, {length})") { Addr = addr, Length = length },
            () => { Model.Munlock(addr, length); return 0; });
    }

    /// <summary>/proc/PID/maps: the VMAs in address order, each with its maps line.</summary>
    public IReadOnlyList<ScriptVma> Maps
    {
        get
        {
            Op("/proc/pid/maps");
            RequireAlive("/proc/pid/maps");
            return [.. Model.Mm.Vmas.Select(v => new ScriptVma(v))];
        }
    }

    /// <summary>/proc/PID/pagemap over [addr, addr+length), widened to whole pages.</summary>
    public ScriptPagemap Pagemap(ulong addr, long length)
    {
        Op("/proc/pid/pagemap");
        RequireAlive("/proc/pid/pagemap");
        if (length < 0)
            throw new KernelErrnoException("/proc/pid/pagemap", Errno.EINVAL, $"length {length}");
        ulong start = addr & ~4095UL;
        ulong end = (addr + (ulong)length + 4095) & ~4095UL;
        if (end < start)
            throw new KernelErrnoException("/proc/pid/pagemap", Errno.EINVAL, $"0x{addr:x}+{length:x} wraps");
        long pages = (long)((end - start) >> 12);
        return new ScriptPagemap(start, KernelMm.Model.Mm.Pagemap.Read(_kernel, Model.Mm, start, pages), _kernel.ZeroPfn);
    }

    /// <summary>min_flt of /proc/PID/stat: the faults this task took (all minor: there is no I/O).</summary>
    public long MinFlt
    {
        get
        {
            Op("/proc/pid/stat");
            return Model.MinFlt;
        }
    }

    public void Munmap(ulong addr, long length)
    {
        Op("munmap");
        Traced(new ReplayCall(ReplayKind.Munmap, Pid, $"{Pid}: Munmap(0x{addr:x}, {length})") { Addr = addr, Length = length },
            () => { Model.Munmap(addr, length); return 0; });
    }

    public void Mprotect(ulong addr, long length, Prot prot)
    {
        Op("mprotect");
        Traced(new ReplayCall(ReplayKind.Mprotect, Pid, $"{Pid}: Mprotect(0x{addr:x}, {length}, {prot})") { Addr = addr, Length = length, Arg = (long)prot },
            () => { Model.Mprotect(addr, length, prot); return 0; });
    }

    public void Madvise(ulong addr, long length, Advice advice)
    {
        Op("madvise");
        Traced(new ReplayCall(ReplayKind.Madvise, Pid, $"{Pid}: Madvise(0x{addr:x}, {length}, {advice})") { Addr = addr, Length = length, Arg = (long)advice },
            () => { Model.Madvise(addr, length, advice); return 0; });
    }

    /// <summary>Accesses every <paramref name="stride"/> bytes of the range from user mode, faulting pages in.</summary>
    public void Touch(ulong addr, long length, Access access, long stride = 4096)
    {
        Op("touch");
        Traced(new ReplayCall(ReplayKind.Touch, Pid, $"{Pid}: Touch(0x{addr:x}, {length}, {access}{(stride != 4096 ? $", stride: {stride}" : "")})")
            { Addr = addr, Length = length, Arg2 = stride, Arg3 = access == Access.Write ? 1UL : 0UL },
            () => { Model.Touch(addr, length, access, stride); return 0; });
    }

    public ScriptProcess Fork(string name)
    {
        Op("fork");
        var child = Model.Fork(name);
        _run.Trace?.Forked(Model, child, _run.Kernel);
        return new ScriptProcess(_run, child);
    }

    public void ModifyLdt(int entries)
    {
        Op("modify_ldt");
        _run.KernelCall($"{Pid}: ModifyLdt({entries}): the LDT is not a user-space figure");
        Model.ModifyLdt(entries);
    }

    public void Exit()
    {
        Op("exit");
        Model.Exit();
        _run.Trace?.Exited(Model);
    }

    public override string ToString() => Model.ToString();

    private const long MAP_FIXED = 0x10;

    // Records the call for kmm oracle with the model's answer: its result, or the errno it failed with.
    private long Traced(ReplayCall call, Func<long> model)
    {
        if (_run.Trace is not { } trace)
            return model();
        try
        {
            long result = model();
            trace.Call(call with { Result = result });
            return result;
        }
        catch (KernelErrnoException e)
        {
            trace.Call(call with { Failed = e.Errno });
            throw;
        }
    }

    /// <summary>The process's memory cgroup (/proc/PID/cgroup's memory line): null for the root.</summary>
    public string? Memcg
    {
        get
        {
            Op("/proc/pid/cgroup");
            RequireAlive("/proc/pid/cgroup");
            return Model.Memcg?.Name;
        }
    }

    internal void CheckSameBoot(string call) => _run.CheckSameBoot(_kernel, call, Errno.ESRCH, $"process {Pid} ({Comm})");

    private void Op(string call)
    {
        _run.Meter.Op(call);
        _run.CheckSameBoot(_kernel, call, Errno.ESRCH, $"process {Pid} ({Comm})");
    }

    private void RequireAlive(string file)
    {
        if (!Model.Alive)
            throw new KernelErrnoException(file, Errno.ESRCH, $"process {Pid} ({Comm}) has exited");
    }

    // /proc/PID/status of a task that exited (or of an earlier boot) is gone, as the task is: ESRCH like every other call.
    private IEnumerable<(string Name, long Value)> StatusLines()
    {
        string file = $"/proc/{Pid}/status";
        _run.CheckSameBoot(_kernel, file, Errno.ESRCH, $"process {Pid} ({Comm})");
        if (!Model.Alive)
            throw new KernelErrnoException(file, Errno.ESRCH, $"process {Pid} ({Comm}) has exited");
        return Model.StatusLines();
    }
}
